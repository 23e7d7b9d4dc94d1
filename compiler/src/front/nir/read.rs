//! Reading NIR files (HDF5, as written by `nir.write`) into [`NirGraph`].
//!
//! The HDF5 access sits behind [`Source`], a five-method trait, so the reader
//! (now `hdf5-pure`, pure Rust) can be swapped without touching the rest.

use std::path::Path;

use super::model::*;
use crate::error::{CompileError, Result};

/// What the NIR reader needs from an HDF5 library.
pub trait Source {
    /// Subgroup names of the group at `path` ("" is the root).
    fn groups(&self, path: &str) -> std::result::Result<Vec<String>, String>;
    /// Dataset names of the group at `path`.
    fn datasets(&self, path: &str) -> std::result::Result<Vec<String>, String>;
    /// Whether the dataset holds strings.
    fn is_string(&self, path: &str) -> std::result::Result<bool, String>;
    /// A string dataset's values, flattened, with its shape.
    fn strings(&self, path: &str) -> std::result::Result<(Vec<String>, Vec<usize>), String>;
    /// A numeric dataset as f64 with its shape.
    fn numbers(&self, path: &str) -> std::result::Result<(Vec<f64>, Vec<usize>), String>;
}

/// `hdf5-pure`'s reader.
pub struct Hdf5Pure(hdf5_pure::File, u64);

impl Hdf5Pure {
    /// The file, or `ReadFile` if it cannot be read at all (kept apart from
    /// `Format`, a file read and found not to be HDF5).
    pub fn open(path: &Path) -> Result<Hdf5Pure> {
        let file = path.display().to_string();
        let cannot = |source| CompileError::ReadFile { what: "NIR file", path: file.clone(), referenced_at: None, source };
        let len = std::fs::metadata(path).map_err(cannot)?.len();
        hdf5_pure::File::open(path).map(|f| Hdf5Pure(f, len)).map_err(|e| match e {
            hdf5_pure::Error::Io(source) => cannot(source),
            e => not_hdf5(&file, e),
        })
    }

    /// A file's bytes, read once by the caller (a pipe cannot be read
    /// again); `file` names it in errors.
    pub fn from_bytes(bytes: Vec<u8>, file: &str) -> Result<Hdf5Pure> {
        let len = bytes.len() as u64;
        hdf5_pure::File::from_bytes(bytes).map(|f| Hdf5Pure(f, len)).map_err(|e| not_hdf5(file, e))
    }

    /// A dataset's shape, refused if it claims more elements than the file
    /// could hold even compressed 1024-fold: the reader allocates them before
    /// reading (a 60-byte change to a NIR file asked for 2^54 bytes; found by
    /// fuzzing).
    fn checked_shape(&self, d: &hdf5_pure::Dataset, path: &str) -> std::result::Result<Vec<usize>, String> {
        let shape = d.shape().map_err(|e| e.to_string())?;
        let n = shape.iter().try_fold(1u64, |a, &x| a.checked_mul(x)).unwrap_or(u64::MAX);
        let most = self.1.saturating_mul(1024) / 8 + (1 << 20);
        if n > most {
            return Err(format!("dataset `{path}` claims {n} elements (shape {shape:?}), more than a file of {} bytes can hold", self.1));
        }
        Ok(shape.iter().map(|&x| x as usize).collect())
    }
    fn group(&self, path: &str) -> std::result::Result<hdf5_pure::Group, String> {
        if path.is_empty() {
            Ok(self.0.root())
        } else {
            self.0.group(path).map_err(|e| e.to_string())
        }
    }
}

impl Source for Hdf5Pure {
    fn groups(&self, path: &str) -> std::result::Result<Vec<String>, String> {
        let mut v = self.group(path)?.groups().map_err(|e| e.to_string())?;
        v.sort();
        Ok(v)
    }
    fn datasets(&self, path: &str) -> std::result::Result<Vec<String>, String> {
        let mut v = self.group(path)?.datasets().map_err(|e| e.to_string())?;
        v.sort();
        Ok(v)
    }
    fn is_string(&self, path: &str) -> std::result::Result<bool, String> {
        let d = self.0.dataset(path).map_err(|e| e.to_string())?;
        Ok(matches!(d.dtype().map_err(|e| e.to_string())?, hdf5_pure::DType::String | hdf5_pure::DType::VariableLengthString))
    }
    fn strings(&self, path: &str) -> std::result::Result<(Vec<String>, Vec<usize>), String> {
        let d = self.0.dataset(path).map_err(|e| e.to_string())?;
        let shape = self.checked_shape(&d, path)?;
        Ok((d.read_string().map_err(|e| e.to_string())?, shape))
    }
    fn numbers(&self, path: &str) -> std::result::Result<(Vec<f64>, Vec<usize>), String> {
        let d = self.0.dataset(path).map_err(|e| e.to_string())?;
        let shape = self.checked_shape(&d, path)?;
        let v = match d.dtype().map_err(|e| e.to_string())? {
            hdf5_pure::DType::I8 | hdf5_pure::DType::I16 | hdf5_pure::DType::I32 | hdf5_pure::DType::I64 => {
                d.read_i64().map_err(|e| e.to_string())?.into_iter().map(|x| x as f64).collect()
            }
            // As u64: through i64, 2^64 − 1 read as 2^63 (clamped).
            hdf5_pure::DType::U8 | hdf5_pure::DType::U16 | hdf5_pure::DType::U32 | hdf5_pure::DType::U64 => {
                d.read_u64().map_err(|e| e.to_string())?.into_iter().map(|x| x as f64).collect()
            }
            hdf5_pure::DType::F32 | hdf5_pure::DType::F64 => d.read_f64().map_err(|e| e.to_string())?,
            // h5py writes a bool (`metadata={"reset_subtract": True}` through
            // nir.write) as an enumeration FALSE, TRUE over 8 bits: its codes
            // are 0 and 1. It was passed over, and the reset defaulted.
            hdf5_pure::DType::Enum(names) if is_bool(&names) => d.read_i64().map_err(|e| e.to_string())?.into_iter().map(|x| x as f64).collect(),
            other => return Err(format!("expected numbers (integers of 8 to 64 bits, or 32- or 64-bit floats), found {}", type_words(&other))),
        };
        // The data must fill its shape (a lying shape made an index out of bounds; found by fuzzing).
        let n: usize = shape.iter().product();
        if v.len() != n {
            return Err(format!("dataset `{path}` holds {} values, its shape {shape:?} needs {n}", v.len()));
        }
        Ok((v, shape))
    }
}

/// HDF5's boolean, as the C library (`H5T_NATIVE_HBOOL`) and h5py make it.
fn is_bool(names: &[String]) -> bool {
    let mut n: Vec<&str> = names.iter().map(String::as_str).collect();
    n.sort_unstable();
    n == ["FALSE", "TRUE"]
}

fn not_hdf5(file: &str, e: hdf5_pure::Error) -> CompileError {
    CompileError::Format { file: file.to_string(), path: "/".into(), reason: format!("not a readable HDF5 (NIR) file: {e}") }
}

/// Reads a `.nir` file.
pub fn read_nir(path: &Path) -> Result<NirGraph> {
    graph(&Hdf5Pure::open(path)?, &path.display().to_string())
}

/// Reads a NIR file's bytes; `file` names it in errors.
pub fn read_nir_bytes(bytes: Vec<u8>, file: &str) -> Result<NirGraph> {
    graph(&Hdf5Pure::from_bytes(bytes, file)?, file)
}

fn graph(src: &Hdf5Pure, file: &str) -> Result<NirGraph> {
    let file = file.to_string();
    let version = if src.datasets("").map_err(|e| ferr(&file, "/", &e))?.iter().any(|d| d == "version") {
        src.strings("version").ok().and_then(|(v, _)| v.into_iter().next())
    } else {
        None
    };
    let mut g = read_graph(src, &file, "node", 0)?;
    g.version = version;
    // Numeric metadata at the top level (advisory: e.g. `sample_dt`).
    if src.groups("node").map_err(|e| ferr(&file, "node", &e))?.iter().any(|x| x == "metadata") {
        for d in src.datasets("node/metadata").unwrap_or_default() {
            let p = format!("node/metadata/{d}");
            // The timestep sets dt, and reset_subtract the reset: one that is
            // not a number (text, a list) was passed over for a default
            // without a word. It is kept as NaN, which the lowering refuses
            // unless --dt (--reset) is given.
            let needed = d == "sample_dt" || d == "reset_subtract";
            let one = if src.is_string(&p).unwrap_or(true) { None } else { src.numbers(&p).ok().filter(|(v, _)| v.len() == 1).map(|(v, _)| v[0]) };
            match one {
                Some(x) => g.metadata.push((d, x)),
                None if needed => g.metadata.push((d, f64::NAN)),
                None => {}
            }
        }
    }
    Ok(g)
}

/// An HDF5 type that holds no numbers nerve reads, in words (its Debug
/// form was the whole type record: a 16-bit float took five lines).
fn type_words(t: &hdf5_pure::DType) -> String {
    use hdf5_pure::{DType, Datatype};
    match t {
        DType::String | DType::VariableLengthString => "text".into(),
        DType::Compound(fields) => format!("a compound type of {} fields", fields.len()),
        DType::Enum(_) => "an enumeration".into(),
        DType::Array(..) => "an array type".into(),
        DType::ObjectReference => "an object reference".into(),
        DType::Other(d) => match **d {
            Datatype::FloatingPoint { size, .. } => format!("a {}-bit float", 8 * size),
            Datatype::FixedPoint { size, .. } => format!("a {}-bit integer", 8 * size),
            _ => "a type nerve does not read".into(),
        },
        _ => "numbers of another width".into(),
    }
}

fn ferr(file: &str, path: &str, reason: &str) -> CompileError {
    CompileError::Format { file: file.to_string(), path: format!("/{path}"), reason: reason.to_string() }
}

/// How deep NIRGraphs may nest: far past any real model, and a bound on
/// the reader's recursion (an HDF5 hard link from a nested graph back to
/// its parent is a cycle; it was followed until the stack overflowed).
pub const MAX_NESTING: usize = 64;

fn read_graph(src: &dyn Source, file: &str, path: &str, depth: usize) -> Result<NirGraph> {
    let ty = string_at(src, file, &format!("{path}/type"))?;
    if ty != "NIRGraph" {
        return Err(ferr(file, path, &format!("expected a NIRGraph, found `{ty}`")));
    }
    let mut g = NirGraph::default();
    let node_root = format!("{path}/nodes");
    for name in src.groups(&node_root).map_err(|e| ferr(file, &node_root, &e))? {
        let np = format!("{node_root}/{name}");
        let node = read_node(src, file, &np, depth)?;
        g.nodes.push((name, node));
    }
    // The edge list is required, an N×2 array of node names (source,
    // target), as a node's fields are: a file without one compiled as
    // unconnected populations, and a 1-D list was read as pairs.
    let ep = format!("{path}/edges");
    const EDGES: &str = "an N×2 array of node names (source, target), one row per edge";
    let has_edges = src.datasets(path).map_err(|e| ferr(file, path, &e))?.iter().any(|d| d == "edges");
    if !has_edges {
        return Err(ferr(file, path, &format!("`NIRGraph` has no dataset `edges` (expected {EDGES})")));
    }
    if !src.is_string(&ep).map_err(|e| ferr(file, &ep, &e))? {
        // `nir.write` stores a graph without edges as an empty float array.
        let (v, _) = src.numbers(&ep).map_err(|e| ferr(file, &ep, &e))?;
        if v.is_empty() {
            return Ok(g);
        }
        return Err(ferr(file, &ep, &format!("holds numbers, not node names (expected {EDGES})")));
    }
    let (v, shape) = src.strings(&ep).map_err(|e| ferr(file, &ep, &e))?;
    if shape.len() != 2 || shape[1] != 2 {
        return Err(ferr(file, &ep, &format!("has shape {shape:?} (expected {EDGES})")));
    }
    if v.len() != 2 * shape[0] {
        return Err(ferr(file, &ep, &format!("holds {} names, its shape {shape:?} needs {}", v.len(), 2 * shape[0])));
    }
    g.edges = v.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect();
    Ok(g)
}

fn string_at(src: &dyn Source, file: &str, path: &str) -> Result<String> {
    let (v, _) = src.strings(path).map_err(|e| ferr(file, path, &format!("missing or unreadable: {e}")))?;
    v.into_iter().next().ok_or_else(|| ferr(file, path, "empty string dataset"))
}

fn read_node(src: &dyn Source, file: &str, path: &str, depth: usize) -> Result<NirNode> {
    let ty = string_at(src, file, &format!("{path}/type"))?;
    if ty == "NIRGraph" {
        if depth + 1 > MAX_NESTING {
            return Err(ferr(file, path, &format!("NIRGraphs nested more than {MAX_NESTING} deep (is a group linked back to one that holds it?)")));
        }
        return Ok(NirNode::Graph(Box::new(read_graph(src, file, path, depth + 1)?)));
    }
    let fields = src.datasets(path).map_err(|e| ferr(file, path, &e))?;
    let get = |name: &str| -> Result<Option<Array>> {
        if !fields.iter().any(|f| f == name) {
            return Ok(None);
        }
        let p = format!("{path}/{name}");
        if src.is_string(&p).map_err(|e| ferr(file, &p, &e))? {
            return Err(ferr(file, &p, "expected numbers, found text"));
        }
        let (data, shape) = src.numbers(&p).map_err(|e| ferr(file, &p, &e))?;
        Ok(Some(Array { data, shape }))
    };
    let req = |name: &str| -> Result<Array> { get(name)?.ok_or_else(|| ferr(file, path, &format!("`{ty}` node has no field `{name}`"))) };
    // Padding may be text ('same' / 'valid') or numbers.
    let padding = || -> Result<Padding> {
        let p = format!("{path}/padding");
        if !fields.iter().any(|f| f == "padding") {
            return Ok(Padding::Values(vec![0.0]));
        }
        if src.is_string(&p).map_err(|e| ferr(file, &p, &e))? {
            let s = string_at(src, file, &p)?;
            return match s.as_str() {
                "same" => Ok(Padding::Same),
                "valid" => Ok(Padding::Valid),
                other => Err(ferr(file, &p, &format!("padding `{other}` (expected 'same', 'valid' or numbers)"))),
            };
        }
        Ok(Padding::Values(src.numbers(&p).map_err(|e| ferr(file, &p, &e))?.0))
    };
    let n = match ty.as_str() {
        "Input" => NirNode::Input { shape: req("shape")? },
        "Output" => NirNode::Output { shape: req("shape")? },
        "Affine" => NirNode::Affine { weight: req("weight")?, bias: req("bias")? },
        "Linear" => NirNode::Linear { weight: req("weight")? },
        "Scale" => NirNode::Scale { scale: req("scale")? },
        "Conv1d" | "Conv2d" => NirNode::Conv {
            dims: if ty == "Conv1d" { 1 } else { 2 },
            weight: req("weight")?,
            bias: get("bias")?,
            stride: get("stride")?,
            padding: padding()?,
            dilation: get("dilation")?,
            groups: get("groups")?,
            input_shape: get("input_shape")?,
        },
        "SumPool2d" | "AvgPool2d" => NirNode::Pool {
            average: ty == "AvgPool2d",
            kernel_size: req("kernel_size")?,
            stride: get("stride")?,
            padding: padding()?,
        },
        "Flatten" => NirNode::Flatten { start_dim: get("start_dim")?, end_dim: get("end_dim")?, input_type: get("input_type")? },
        "Delay" => NirNode::Delay { delay: req("delay")? },
        "Threshold" => NirNode::Threshold { threshold: req("threshold")? },
        "I" => NirNode::I { r: req("r")? },
        "IF" => NirNode::IF { r: req("r")?, v_threshold: req("v_threshold")?, v_reset: get("v_reset")? },
        "LI" => NirNode::LI { tau: req("tau")?, r: req("r")?, v_leak: req("v_leak")? },
        "LIF" => NirNode::LIF { tau: req("tau")?, r: req("r")?, v_leak: req("v_leak")?, v_threshold: req("v_threshold")?, v_reset: get("v_reset")? },
        "CubaLI" => NirNode::CubaLI { tau_syn: req("tau_syn")?, tau_mem: req("tau_mem")?, r: req("r")?, v_leak: req("v_leak")?, w_in: get("w_in")? },
        "CubaLIF" => NirNode::CubaLIF {
            tau_syn: req("tau_syn")?,
            tau_mem: req("tau_mem")?,
            r: req("r")?,
            v_leak: req("v_leak")?,
            w_in: get("w_in")?,
            v_threshold: req("v_threshold")?,
            v_reset: get("v_reset")?,
        },
        other => {
            return Err(ferr(
                file,
                path,
                &format!("unknown node type `{other}` (nir 1.0.8 primitives: Input, Output, Affine, Linear, Scale, Conv1d, Conv2d, SumPool2d, AvgPool2d, Flatten, Delay, Threshold, I, IF, LI, LIF, CubaLI, CubaLIF, NIRGraph)"),
            ))
        }
    };
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file whose nested graph `sub` is a hard link back to the graph that
    /// holds it: every path `node(/nodes/sub)*` is the same NIRGraph, so the
    /// reader met it again at each level, without end.
    struct Cycle;

    impl Source for Cycle {
        fn groups(&self, path: &str) -> std::result::Result<Vec<String>, String> {
            Ok(if path.ends_with("/nodes") { vec!["sub".into()] } else { vec!["nodes".into()] })
        }
        fn datasets(&self, _: &str) -> std::result::Result<Vec<String>, String> {
            Ok(vec!["type".into()])
        }
        fn is_string(&self, path: &str) -> std::result::Result<bool, String> {
            Ok(path.ends_with("/type"))
        }
        fn strings(&self, path: &str) -> std::result::Result<(Vec<String>, Vec<usize>), String> {
            assert!(path.len() < 2_000, "the reader followed the cycle without end");
            Ok((vec!["NIRGraph".into()], vec![]))
        }
        fn numbers(&self, path: &str) -> std::result::Result<(Vec<f64>, Vec<usize>), String> {
            Err(format!("no numbers at {path}"))
        }
    }

    /// A file as `nir.write` lays it out, `in` → `n` (an IF), with the
    /// edge list given as (names, shape) or left out.
    fn file(edges: Option<(&[&str], &[u64])>) -> Vec<u8> {
        file_with(|node| {
            if let Some((names, shape)) = edges {
                node.create_dataset("edges").with_vlen_strings(names).with_shape(shape);
            }
        })
    }

    /// The same file with `edges` as `nir.write` writes a graph without
    /// edges (an empty float array), or with numbers in it.
    fn file_with_numeric_edges(values: &[f64]) -> Vec<u8> {
        file_with(|node| {
            node.create_dataset("edges").with_f64_data(values).with_shape(&[values.len() as u64]);
        })
    }

    fn file_with(edges: impl FnOnce(&mut hdf5_pure::GroupBuilder)) -> Vec<u8> {
        let mut fb = hdf5_pure::FileBuilder::new();
        fb.create_dataset("version").with_vlen_strings(&["1.0.8"]).with_shape(&[]);
        let mut node = fb.create_group("node");
        node.create_dataset("type").with_vlen_strings(&["NIRGraph"]).with_shape(&[]);
        edges(&mut node);
        let mut nodes = node.create_group("nodes");
        let mut i = nodes.create_group("in");
        i.create_dataset("type").with_vlen_strings(&["Input"]).with_shape(&[]);
        i.create_dataset("shape").with_i64_data(&[1]).with_shape(&[1]);
        nodes.add_group(i.finish());
        let mut n = nodes.create_group("n");
        n.create_dataset("type").with_vlen_strings(&["IF"]).with_shape(&[]);
        for f in ["r", "v_threshold"] {
            n.create_dataset(f).with_f64_data(&[1.0]).with_shape(&[1]);
        }
        nodes.add_group(n.finish());
        node.add_group(nodes.finish());
        fb.add_group(node.finish());
        fb.finish().unwrap()
    }

    /// A file without `/node/edges` compiled as unconnected populations,
    /// and a 1-D edge list was read as pairs: both refused naming the
    /// dataset and what it must be, as a missing node field is.
    #[test]
    fn the_edge_list_must_be_there_and_n_by_2() {
        let g = read_nir_bytes(file(Some((&["in", "n"], &[1, 2]))), "ok.nir").unwrap();
        assert_eq!(g.edges, [("in".to_string(), "n".to_string())]);
        let e = read_nir_bytes(file(None), "no_edges.nir").unwrap_err().to_string();
        assert_eq!(e, "no_edges.nir: /node: `NIRGraph` has no dataset `edges` (expected an N×2 array of node names (source, target), one row per edge)");
        for (names, shape, want) in [
            (&["in", "n", "n", "in"][..], &[4u64][..], "has shape [4]"),
            (&["in", "n", "x", "n", "in", "y"][..], &[2, 3][..], "has shape [2, 3]"),
            (&["in", "n"][..], &[1, 1, 2][..], "has shape [1, 1, 2]"),
        ] {
            let e = read_nir_bytes(file(Some((names, shape))), "bad.nir").unwrap_err().to_string();
            assert!(e.starts_with("bad.nir: /node/edges: ") && e.contains(want) && e.contains("expected an N×2 array of node names"), "{e}");
        }
        // No edges at all, as nir.write stores them (it was refused as "holds numbers").
        assert!(read_nir_bytes(file_with_numeric_edges(&[]), "edgeless.nir").unwrap().edges.is_empty());
        let e = read_nir_bytes(file_with_numeric_edges(&[1.0, 2.0]), "num.nir").unwrap_err().to_string();
        assert!(e.contains("/node/edges: holds numbers, not node names"), "{e}");
    }

    /// Unsigned datasets past i64's range were read through i64 and came
    /// out as 2^63: a uint64 weight of 2^64 − 1 acted as half its value.
    #[test]
    fn unsigned_64_bit_values_are_read_whole() {
        let big = [u64::MAX, (1 << 63) + (1 << 40), 7];
        let mut fb = hdf5_pure::FileBuilder::new();
        fb.create_dataset("version").with_vlen_strings(&["1.0.8"]).with_shape(&[]);
        let mut node = fb.create_group("node");
        node.create_dataset("type").with_vlen_strings(&["NIRGraph"]).with_shape(&[]);
        node.create_dataset("edges").with_vlen_strings(&["in", "w"]).with_shape(&[1, 2]);
        let mut nodes = node.create_group("nodes");
        let mut i = nodes.create_group("in");
        i.create_dataset("type").with_vlen_strings(&["Input"]).with_shape(&[]);
        i.create_dataset("shape").with_i64_data(&[3]).with_shape(&[1]);
        nodes.add_group(i.finish());
        let mut w = nodes.create_group("w");
        w.create_dataset("type").with_vlen_strings(&["Scale"]).with_shape(&[]);
        w.create_dataset("scale").with_u64_data(&big).with_shape(&[3]);
        nodes.add_group(w.finish());
        node.add_group(nodes.finish());
        fb.add_group(node.finish());
        let g = read_nir_bytes(fb.finish().unwrap(), "u64.nir").unwrap();
        let Some((_, NirNode::Scale { scale })) = g.nodes.iter().find(|(n, _)| n == "w") else { panic!("no Scale node `w`: {:?}", g.nodes) };
        assert_eq!(scale.data, big.map(|x| x as f64));
    }

    #[test]
    fn a_cycle_of_nested_graphs_is_refused() {
        let e = read_graph(&Cycle, "c.nir", "node", 0).unwrap_err().to_string();
        assert!(e.contains("c.nir") && e.contains("NIRGraphs nested more than 64 deep"), "{e}");
        assert!(e.contains(&format!("/node{}", "/nodes/sub".repeat(65))), "{e}");
    }
}
