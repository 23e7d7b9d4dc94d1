//! NIR graphs as read from a file (nir 1.0.8 primitives), and flattening of
//! nested graphs with validation.

/// A numeric field: values (C order) and shape (empty for a scalar).
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    pub data: Vec<f64>,
    pub shape: Vec<usize>,
}

impl Array {
    pub fn scalar(v: f64) -> Array {
        Array { data: vec![v], shape: vec![] }
    }
    pub fn len(&self) -> usize {
        self.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    /// Element i, broadcasting a single value.
    pub fn at(&self, i: usize) -> f64 {
        if self.data.len() == 1 {
            self.data[0]
        } else {
            self.data[i]
        }
    }
    pub fn ints(&self) -> Vec<usize> {
        self.data.iter().map(|&x| x as usize).collect()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Padding {
    Same,
    Valid,
    Values(Vec<f64>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum NirNode {
    Input {
        shape: Array,
    },
    Output {
        shape: Array,
    },
    Affine {
        weight: Array,
        bias: Array,
    },
    Linear {
        weight: Array,
    },
    Scale {
        scale: Array,
    },
    Conv {
        dims: u8,
        weight: Array,
        bias: Option<Array>,
        stride: Option<Array>,
        padding: Padding,
        dilation: Option<Array>,
        groups: Option<Array>,
        input_shape: Option<Array>,
    },
    Pool {
        average: bool,
        kernel_size: Array,
        stride: Option<Array>,
        padding: Padding,
    },
    Flatten {
        start_dim: Option<Array>,
        end_dim: Option<Array>,
        input_type: Option<Array>,
    },
    Delay {
        delay: Array,
    },
    Threshold {
        threshold: Array,
    },
    I {
        r: Array,
    },
    IF {
        r: Array,
        v_threshold: Array,
        v_reset: Option<Array>,
    },
    LI {
        tau: Array,
        r: Array,
        v_leak: Array,
    },
    LIF {
        tau: Array,
        r: Array,
        v_leak: Array,
        v_threshold: Array,
        v_reset: Option<Array>,
    },
    CubaLI {
        tau_syn: Array,
        tau_mem: Array,
        r: Array,
        v_leak: Array,
        w_in: Option<Array>,
    },
    CubaLIF {
        tau_syn: Array,
        tau_mem: Array,
        r: Array,
        v_leak: Array,
        w_in: Option<Array>,
        v_threshold: Array,
        v_reset: Option<Array>,
    },
    Graph(Box<NirGraph>),
}

impl NirNode {
    pub fn type_name(&self) -> &'static str {
        match self {
            NirNode::Input { .. } => "Input",
            NirNode::Output { .. } => "Output",
            NirNode::Affine { .. } => "Affine",
            NirNode::Linear { .. } => "Linear",
            NirNode::Scale { .. } => "Scale",
            NirNode::Conv { dims: 1, .. } => "Conv1d",
            NirNode::Conv { .. } => "Conv2d",
            NirNode::Pool { average: true, .. } => "AvgPool2d",
            NirNode::Pool { .. } => "SumPool2d",
            NirNode::Flatten { .. } => "Flatten",
            NirNode::Delay { .. } => "Delay",
            NirNode::Threshold { .. } => "Threshold",
            NirNode::I { .. } => "I",
            NirNode::IF { .. } => "IF",
            NirNode::LI { .. } => "LI",
            NirNode::LIF { .. } => "LIF",
            NirNode::CubaLI { .. } => "CubaLI",
            NirNode::CubaLIF { .. } => "CubaLIF",
            NirNode::Graph(_) => "NIRGraph",
        }
    }
    /// Nodes with state or a spiking non-linearity: they become populations.
    pub fn is_neuron(&self) -> bool {
        match self {
            NirNode::Threshold { .. }
            | NirNode::I { .. }
            | NirNode::IF { .. }
            | NirNode::LI { .. }
            | NirNode::LIF { .. }
            | NirNode::CubaLI { .. }
            | NirNode::CubaLIF { .. } => true,
            NirNode::Input { .. }
            | NirNode::Output { .. }
            | NirNode::Affine { .. }
            | NirNode::Linear { .. }
            | NirNode::Scale { .. }
            | NirNode::Conv { .. }
            | NirNode::Pool { .. }
            | NirNode::Flatten { .. }
            | NirNode::Delay { .. }
            | NirNode::Graph(_) => false,
        }
    }
    pub fn is_spiking(&self) -> bool {
        matches!(self, NirNode::Threshold { .. } | NirNode::IF { .. } | NirNode::LIF { .. } | NirNode::CubaLIF { .. })
    }
}

/// A graph; node order is the file's (sorted by name, as HDF5 lists them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NirGraph {
    pub nodes: Vec<(String, NirNode)>,
    pub edges: Vec<(String, String)>,
    pub version: Option<String>,
    /// Numeric metadata (e.g. `sample_dt`), advisory.
    pub metadata: Vec<(String, f64)>,
}

/// A graph with nested graphs inlined: names `outer.inner`.
#[derive(Clone, Debug, Default)]
pub struct FlatGraph {
    pub nodes: Vec<(String, NirNode)>,
    pub edges: Vec<(String, String)>,
    /// Top-level Input and Output node names.
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
}

impl FlatGraph {
    pub fn index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|(n, _)| n == name)
    }
}

/// Inlines nested graphs (an edge into a subgraph goes to its Input nodes, an
/// edge out of one comes from its Output nodes; those become identity nodes)
/// and checks that every edge joins existing nodes.
pub fn flatten(g: &NirGraph) -> Result<FlatGraph, String> {
    let mut out = FlatGraph::default();
    let mut origins = Vec::new();
    inline(g, "", &mut out, &mut origins)?;
    // A dotted name can be another graph's nested node (a node `sub.lif`
    // beside a graph `sub` holding `lif`): edges found by name would join
    // whichever came first.
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::with_capacity(out.nodes.len());
    for (i, (n, _)) in out.nodes.iter().enumerate() {
        if let Some(&j) = seen.get(n.as_str()) {
            return Err(format!("{} and {} both flatten to the name `{n}`: rename one", origins[j], origins[i]));
        }
        seen.insert(n, i);
    }
    for (n, node) in &g.nodes {
        match node {
            NirNode::Input { .. } => out.inputs.push(n.clone()),
            NirNode::Output { .. } => out.outputs.push(n.clone()),
            _ => {}
        }
    }
    Ok(out)
}

/// `origins[i]` says where `out.nodes[i]` came from, for messages.
fn inline(g: &NirGraph, prefix: &str, out: &mut FlatGraph, origins: &mut Vec<String>) -> Result<(), String> {
    let mut entry: Vec<(String, Vec<String>)> = Vec::new();
    let mut exit: Vec<(String, Vec<String>)> = Vec::new();
    for (name, node) in &g.nodes {
        let full = format!("{prefix}{name}");
        match node {
            NirNode::Graph(sub) => {
                inline(sub, &format!("{full}."), out, origins)?;
                entry.push((name.clone(), sub.nodes.iter().filter(|(_, n)| matches!(n, NirNode::Input { .. })).map(|(k, _)| format!("{full}.{k}")).collect()));
                exit.push((name.clone(), sub.nodes.iter().filter(|(_, n)| matches!(n, NirNode::Output { .. })).map(|(k, _)| format!("{full}.{k}")).collect()));
            }
            other => {
                origins.push(match prefix.strip_suffix('.') {
                    Some(graph) => format!("node `{name}` of the nested graph `{graph}`"),
                    None => format!("the top-level node `{name}`"),
                });
                out.nodes.push((full, other.clone()));
            }
        }
    }
    let exists = |n: &str| g.nodes.iter().any(|(k, _)| k == n);
    for (a, b) in &g.edges {
        for (end, what) in [(a, "source"), (b, "target")] {
            if !exists(end) {
                return Err(format!(
                    "edge {prefix}{a} → {prefix}{b}: its {what} `{prefix}{end}` is not a node of the graph (nodes: {})",
                    g.nodes.iter().map(|(k, _)| format!("{prefix}{k}")).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        // An Input node is fed from outside its graph (at the top level by
        // spike files, nested by the edges into the graph): an edge into it
        // was dropped without a word, whatever its shapes.
        if g.nodes.iter().any(|(k, n)| k == b && matches!(n, NirNode::Input { .. })) {
            let whose = match prefix.strip_suffix('.') {
                Some(graph) => format!("an Input node of the nested graph `{graph}`, fed by the edges into that graph"),
                None => "a top-level Input node, fed by the network's input (spike files)".to_string(),
            };
            return Err(format!("edge {prefix}{a} → {prefix}{b}: its target `{prefix}{b}` is {whose}; no edge may lead into an Input node"));
        }
        let srcs = exit.iter().find(|(k, _)| k == a).map(|(_, v)| v.clone()).unwrap_or_else(|| vec![format!("{prefix}{a}")]);
        let dsts = entry.iter().find(|(k, _)| k == b).map(|(_, v)| v.clone()).unwrap_or_else(|| vec![format!("{prefix}{b}")]);
        // A nested graph with no Output (Input) node has nothing for the edge
        // to leave (enter) by: the edge vanished without a word.
        for (ends, end, what) in [(&srcs, a, "Output"), (&dsts, b, "Input")] {
            if ends.is_empty() {
                return Err(format!(
                    "edge {prefix}{a} → {prefix}{b}: the nested graph `{prefix}{end}` has no {what} node for it to {}",
                    if what == "Output" { "leave by" } else { "enter by" }
                ));
            }
        }
        for s in &srcs {
            for d in &dsts {
                out.edges.push((s.clone(), d.clone()));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(input: bool) -> NirNode {
        let shape = Array { data: vec![1.0], shape: vec![1] };
        if input {
            NirNode::Input { shape }
        } else {
            NirNode::Output { shape }
        }
    }

    fn thr() -> NirNode {
        NirNode::Threshold { threshold: Array { data: vec![1.0], shape: vec![1] } }
    }

    fn graph(nodes: Vec<(&str, NirNode)>, edges: &[(&str, &str)]) -> NirGraph {
        NirGraph {
            nodes: nodes.into_iter().map(|(k, n)| (k.to_string(), n)).collect(),
            edges: edges.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
            ..Default::default()
        }
    }

    /// An edge into a nested graph with no Input node, or out of one with no
    /// Output node, joined nothing and vanished: refused, naming both.
    #[test]
    fn an_edge_a_nested_graph_cannot_take_is_refused() {
        let no_input = graph(vec![("t", thr()), ("o", io(false))], &[("t", "o")]);
        let g = graph(vec![("i", io(true)), ("sub", NirNode::Graph(Box::new(no_input))), ("o", io(false))], &[("i", "sub"), ("sub", "o")]);
        let e = flatten(&g).unwrap_err();
        assert_eq!(e, "edge i → sub: the nested graph `sub` has no Input node for it to enter by");
        // Two levels down, named by its flattened path.
        let no_output = graph(vec![("i", io(true)), ("t", thr())], &[("i", "t")]);
        let inner = graph(vec![("i", io(true)), ("deep", NirNode::Graph(Box::new(no_output))), ("o", io(false))], &[("i", "deep"), ("deep", "o")]);
        let g = graph(vec![("i", io(true)), ("sub", NirNode::Graph(Box::new(inner))), ("o", io(false))], &[("i", "sub"), ("sub", "o")]);
        let e = flatten(&g).unwrap_err();
        assert_eq!(e, "edge sub.deep → sub.o: the nested graph `sub.deep` has no Output node for it to leave by");
    }

    /// An edge into an Input node was dropped (with mismatched shapes too;
    /// `nir.read` refuses it): refused naming the edge and the node, at the
    /// top level and inside a nested graph.
    #[test]
    fn an_edge_into_an_input_node_is_refused() {
        let g = graph(vec![("in", io(true)), ("t", thr()), ("o", io(false))], &[("in", "t"), ("t", "o"), ("t", "in")]);
        let e = flatten(&g).unwrap_err();
        assert_eq!(e, "edge t → in: its target `in` is a top-level Input node, fed by the network's input (spike files); no edge may lead into an Input node");
        let sub = graph(vec![("i", io(true)), ("t", thr()), ("o", io(false))], &[("i", "t"), ("t", "o"), ("t", "i")]);
        let g = graph(vec![("in", io(true)), ("sub", NirNode::Graph(Box::new(sub))), ("o", io(false))], &[("in", "sub"), ("sub", "o")]);
        let e = flatten(&g).unwrap_err();
        assert_eq!(
            e,
            "edge sub.t → sub.i: its target `sub.i` is an Input node of the nested graph `sub`, fed by the edges into that graph; no edge may lead into an Input node"
        );
    }

    /// A top-level node `sub.t` beside a nested graph `sub` holding `t`:
    /// both flattened to `sub.t` and edges joined whichever came first.
    #[test]
    fn names_that_flatten_alike_are_refused() {
        let sub = graph(vec![("i", io(true)), ("t", thr()), ("o", io(false))], &[("i", "t"), ("t", "o")]);
        let g = graph(
            vec![("i", io(true)), ("sub", NirNode::Graph(Box::new(sub))), ("sub.t", thr()), ("o", io(false))],
            &[("i", "sub"), ("sub", "sub.t"), ("sub.t", "o")],
        );
        let e = flatten(&g).unwrap_err();
        assert_eq!(e, "node `t` of the nested graph `sub` and the top-level node `sub.t` both flatten to the name `sub.t`: rename one");
    }
}
