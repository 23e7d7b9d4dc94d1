//! Every documented option is exercised: the neuron models and parameters
//! are read from docs/network-format.md ("Models"), checked against the
//! model registry both ways (a parameter the code accepts but the page does
//! not name fails, and so does a documented model the code lacks), and every
//! parameter of every model is set to a non-default value in a network that
//! must compile and whose image must differ from the default one's (the value
//! reached the image: a parameter read and ignored, or refused, fails).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use nerve_compiler::compile::{compile, Options};
use nerve_compiler::models::{Default as Dflt, Range, MODELS};
use nerve_isa::arch::Arch;
use serde_json::{json, Value};

/// The page's model bullets: model name → the names it mentions in backticks
/// (its own, and those of a model it is described from: "as `lif` …").
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/network-format.md")).unwrap();
    let start = page.find("Models (units").expect("the page's model list");
    let mut bullets: Vec<String> = Vec::new();
    for line in page[start..].lines().skip(1) {
        if line.starts_with("- `") {
            bullets.push(line.to_string());
        } else if line.starts_with("  ") && !bullets.is_empty() {
            bullets.last_mut().unwrap().push_str(line);
        } else {
            break; // the list ends at the first line that is neither
        }
    }
    let ticked = |s: &str| -> Vec<String> { s.split('`').skip(1).step_by(2).map(str::to_string).collect() };
    let mut own: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for b in &bullets {
        let names = ticked(b);
        own.insert(names[0].clone(), names[1..].iter().cloned().collect());
    }
    // A model described from another inherits that one's names.
    let models: BTreeSet<String> = own.keys().cloned().collect();
    let mut all = own.clone();
    for (m, names) in &own {
        for other in names.iter().filter(|n| models.contains(*n) && *n != m) {
            let inherited = own[other].clone();
            all.get_mut(m).unwrap().extend(inherited);
        }
    }
    all
}

/// A non-default value in the parameter's range.
fn other_value(default: f64, range: Range) -> f64 {
    match range {
        Range::Int(lo, hi) => {
            let d = default.round() as i64;
            (if d + 3 <= hi { d + 3 } else { (d - 3).max(lo) }) as f64
        }
        Range::Positive => default * 1.5 + 0.5,
        Range::NonNegative => default + 3.0,
        Range::Any => default + 1.7,
    }
}

fn image_of(model: &str, params: &Value, arch: &str) -> Result<Vec<u8>, String> {
    let integer = model == "loihi_lif";
    let net = json!({
        "name": "p", "dt_ms": 1.0,
        "populations": [
            {"name": "src", "size": 2, "model": "spike_source_array", "spike_times": [[1.0, 4.0], [2.0]]},
            {"name": "n", "size": 2, "model": model, "params": params}
        ],
        "projections": [
            {"pre": "src", "post": "n", "weight": if integer { json!(40) } else { json!(0.5) }, "connector": {"type": "one_to_one"}},
            {"pre": "src", "post": "n", "weight": if integer { json!(-20) } else { json!(-0.3) }, "receptor": "inhibitory", "connector": {"type": "one_to_one"}}
        ]
    });
    let net = nerve_compiler::front::json::parse_network(&net.to_string(), Path::new("p.json")).map_err(|e| e.to_string())?;
    let out = compile(&Arch::load(arch).unwrap(), &net, &Options::default(), &mut |_| {}).map_err(|e| e.to_string())?;
    Ok(out.image.to_bytes())
}

#[test]
fn every_documented_parameter_reaches_the_image() {
    let doc = documented();
    let json_models = nerve_compiler::models::names();
    for m in &json_models {
        assert!(doc.contains_key(*m), "model `{m}` is accepted but docs/network-format.md does not describe it");
    }
    let mut checked = 0;
    for m in MODELS.iter().filter(|m| json_models.contains(&m.name())) {
        let names = &doc[m.name()];
        let arch = if m.integer_weights() { "loihi" } else { "spinnaker" };
        // The required parameters at a base value; the rest at their defaults.
        let mut base = serde_json::Map::new();
        for p in m.params() {
            if p.default == Dflt::Required {
                let v = match p.range {
                    Range::Int(lo, hi) => ((lo + hi) / 2).clamp(lo, 400) as f64,
                    _ => 1.0,
                };
                base.insert(p.name.into(), json!(v));
            }
        }
        // A parameter that scales another shows only when that one is not 0.
        if m.name() == "loihi_lif" {
            base.insert("bias_mant".into(), json!(5));
        }
        let default_image = image_of(m.name(), &Value::Object(base.clone()), arch).unwrap_or_else(|e| panic!("`{}` with its defaults: {e}", m.name()));
        for p in m.params() {
            assert!(names.contains(p.name), "`{}` accepts `{}`, which docs/network-format.md does not name for it", m.name(), p.name);
            let default = match p.default {
                _ if base.contains_key(p.name) => base[p.name].as_f64().unwrap(),
                Dflt::Value(v) => v,
                Dflt::Required => unreachable!("required parameters are in the base"),
                Dflt::Optional => match p.range {
                    Range::Int(lo, _) => lo as f64,
                    _ => 0.0,
                },
            };
            let mut params = base.clone();
            params.insert(p.name.into(), json!(other_value(default, p.range)));
            let image =
                image_of(m.name(), &Value::Object(params.clone()), arch).unwrap_or_else(|e| panic!("`{}` with `{}` set ({params:?}): {e}", m.name(), p.name));
            assert!(image != default_image, "`{}`: setting `{}` to {} changed nothing in the image", m.name(), p.name, params[p.name]);
            checked += 1;
        }
    }
    assert!(checked >= 25, "{checked} parameters checked");
}

/// The page's connectors and their options: each bullet of its connector
/// list names connectors (known types) and, inside `{…}`, their options.
fn documented_connectors() -> BTreeSet<(String, String)> {
    const TYPES: &[&str] =
        &["all_to_all", "one_to_one", "fixed_probability", "fixed_number_pre", "fixed_number_post", "from_list", "dense", "conv2d", "sum_pool2d", "avg_pool2d"];
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/network-format.md")).unwrap();
    let start = page.find("Connectors (`\"connector\"").expect("the page's connector list");
    let mut bullets: Vec<String> = Vec::new();
    for line in page[start..].lines().skip(1) {
        if line.starts_with("- `") {
            bullets.push(line.to_string());
        } else if line.starts_with("  ") && !line.trim().is_empty() && !bullets.is_empty() {
            bullets.last_mut().unwrap().push_str(line);
        } else {
            break;
        }
    }
    let mut out = BTreeSet::new();
    for b in &bullets {
        let types: Vec<String> = b.split('`').skip(1).step_by(2).filter(|t| TYPES.contains(t)).map(str::to_string).collect();
        // Options: the ticked names inside braces.
        let mut opts = Vec::new();
        let mut depth = 0;
        for (i, part) in b.split('`').enumerate() {
            if i % 2 == 1 {
                if depth > 0 && part.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    opts.push(part.to_string());
                }
            } else {
                for ch in part.chars() {
                    match ch {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                }
            }
        }
        for t in &types {
            out.insert((t.clone(), String::new()));
            for o in &opts {
                out.insert((t.clone(), o.clone()));
            }
        }
    }
    out
}

/// (connector, option, connector JSON with the option at a base value, with
/// it changed); pre and post are populations `a` (size 8, or the shape's)
/// and `b` (size 8), `a` → `a` where self-connections matter.
fn connector_rows() -> Vec<(&'static str, &'static str, Value, Value, bool)> {
    let w3 = json!([[[[1.0, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 1.0]]]]);
    let m = |w: f64| serde_json::to_value(vec![vec![w; 8]; 8]).unwrap();
    let conv = |k: &str, v: Value| {
        let mut c = json!({"type": "conv2d", "in_shape": [1, 6, 6], "weights": w3, "stride": 1, "padding": 0, "dilation": 1, "groups": 1});
        c[k] = v;
        c
    };
    let pool = |t: &str, k: &str, v: Value| {
        let mut c = json!({"type": t, "in_shape": [1, 6, 6], "kernel": 2, "stride": 2, "padding": 0});
        c[k] = v;
        c
    };
    let fp = |k: &str, v: Value| {
        let mut c = json!({"type": "fixed_probability", "p": 0.3, "seed": 1, "allow_self_connections": true});
        c[k] = v;
        c
    };
    let fnum = |t: &str, k: &str, v: Value| {
        let mut c = json!({"type": t, "n": 3, "seed": 1, "allow_self_connections": true});
        c[k] = v;
        c
    };
    vec![
        ("all_to_all", "", json!({"type": "all_to_all"}), json!({"type": "one_to_one"}), false),
        (
            "all_to_all",
            "allow_self_connections",
            json!({"type": "all_to_all", "allow_self_connections": true}),
            json!({"type": "all_to_all", "allow_self_connections": false}),
            true,
        ),
        ("one_to_one", "", json!({"type": "one_to_one"}), json!({"type": "all_to_all"}), false),
        ("fixed_probability", "", fp("p", json!(0.3)), json!({"type": "all_to_all"}), false),
        ("fixed_probability", "p", fp("p", json!(0.3)), fp("p", json!(0.6)), true),
        ("fixed_probability", "seed", fp("seed", json!(1)), fp("seed", json!(2)), true),
        (
            "fixed_probability",
            "allow_self_connections",
            fp("p", json!(1.0)),
            {
                let mut c = fp("p", json!(1.0));
                c["allow_self_connections"] = json!(false);
                c
            },
            true,
        ),
        ("fixed_number_pre", "", fnum("fixed_number_pre", "n", json!(3)), json!({"type": "all_to_all"}), false),
        ("fixed_number_pre", "n", fnum("fixed_number_pre", "n", json!(3)), fnum("fixed_number_pre", "n", json!(5)), true),
        ("fixed_number_pre", "seed", fnum("fixed_number_pre", "seed", json!(1)), fnum("fixed_number_pre", "seed", json!(9)), true),
        (
            "fixed_number_pre",
            "allow_self_connections",
            fnum("fixed_number_pre", "n", json!(8)),
            {
                let mut c = fnum("fixed_number_pre", "n", json!(7));
                c["allow_self_connections"] = json!(false);
                c
            },
            true,
        ),
        ("fixed_number_post", "", fnum("fixed_number_post", "n", json!(3)), json!({"type": "all_to_all"}), false),
        ("fixed_number_post", "n", fnum("fixed_number_post", "n", json!(3)), fnum("fixed_number_post", "n", json!(5)), true),
        ("fixed_number_post", "seed", fnum("fixed_number_post", "seed", json!(1)), fnum("fixed_number_post", "seed", json!(9)), true),
        (
            "fixed_number_post",
            "allow_self_connections",
            fnum("fixed_number_post", "n", json!(8)),
            {
                let mut c = fnum("fixed_number_post", "n", json!(7));
                c["allow_self_connections"] = json!(false);
                c
            },
            true,
        ),
        ("from_list", "", json!({"type": "from_list", "connections": [[0, 1, 0.2]]}), json!({"type": "one_to_one"}), false),
        (
            "from_list",
            "connections",
            json!({"type": "from_list", "connections": [[0, 1, 0.2]]}),
            json!({"type": "from_list", "connections": [[0, 2, 0.2], [3, 1, 0.1]]}),
            false,
        ),
        (
            "from_list",
            "file",
            json!({"type": "from_list", "connections": [[0, 1, 0.2], [2, 3, 0.4]]}),
            json!({"type": "from_list", "file": "conns.csv"}),
            false,
        ),
        (
            "from_list",
            "select",
            json!({"type": "from_list", "file": "kinds.csv", "select": {"kind": "chemical"}}),
            json!({"type": "from_list", "file": "kinds.csv", "select": {"kind": "electrical"}}),
            false,
        ),
        (
            "from_list",
            "ignore_columns",
            json!({"type": "from_list", "file": "conns.csv"}),
            json!({"type": "from_list", "file": "counted.csv", "ignore_columns": ["count"]}),
            false,
        ),
        ("dense", "", json!({"type": "dense", "weights": m(0.1)}), json!({"type": "one_to_one"}), false),
        ("dense", "weights", json!({"type": "dense", "weights": m(0.1)}), json!({"type": "dense", "weights": m(0.2)}), false),
        ("conv2d", "", conv("stride", json!(1)), json!({"type": "all_to_all"}), false),
        ("conv2d", "in_shape", conv("padding", json!(1)), conv("in_shape", json!([1, 4, 4])), false),
        ("conv2d", "weights", conv("stride", json!(1)), conv("weights", json!([[[[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]]])), false),
        ("conv2d", "stride", conv("padding", json!(1)), conv("stride", json!(3)), false),
        ("conv2d", "padding", conv("stride", json!(1)), conv("padding", json!(1)), false),
        ("conv2d", "dilation", conv("padding", json!(2)), conv("dilation", json!(2)), false),
        (
            "conv2d",
            "groups",
            {
                let mut c = conv("in_shape", json!([2, 6, 6]));
                c["weights"] = json!([[w3[0][0], w3[0][0]], [w3[0][0], w3[0][0]]]);
                c
            },
            {
                let mut c = conv("in_shape", json!([2, 6, 6]));
                c["weights"] = json!([[w3[0][0]], [w3[0][0]]]);
                c["groups"] = json!(2);
                c
            },
            false,
        ),
        ("sum_pool2d", "", pool("sum_pool2d", "stride", json!(2)), json!({"type": "all_to_all"}), false),
        ("sum_pool2d", "in_shape", pool("sum_pool2d", "padding", json!(1)), pool("sum_pool2d", "in_shape", json!([1, 4, 4])), false),
        ("sum_pool2d", "kernel", pool("sum_pool2d", "stride", json!(2)), pool("sum_pool2d", "kernel", json!(3)), false),
        ("sum_pool2d", "stride", pool("sum_pool2d", "kernel", json!(3)), pool("sum_pool2d", "stride", json!(1)), false),
        ("sum_pool2d", "padding", pool("sum_pool2d", "stride", json!(2)), pool("sum_pool2d", "padding", json!(1)), false),
        ("avg_pool2d", "", pool("avg_pool2d", "stride", json!(2)), pool("sum_pool2d", "stride", json!(2)), false),
        ("avg_pool2d", "in_shape", pool("avg_pool2d", "padding", json!(1)), pool("avg_pool2d", "in_shape", json!([1, 4, 4])), false),
        ("avg_pool2d", "kernel", pool("avg_pool2d", "stride", json!(2)), pool("avg_pool2d", "kernel", json!(3)), false),
        ("avg_pool2d", "stride", pool("avg_pool2d", "kernel", json!(3)), pool("avg_pool2d", "stride", json!(1)), false),
        ("avg_pool2d", "padding", pool("avg_pool2d", "stride", json!(2)), pool("avg_pool2d", "padding", json!(1)), false),
    ]
}

/// Pre and post sizes a connector needs (shapes for convolutions and poolings).
fn sizes(c: &Value) -> (u64, u64) {
    let shape = |c: &Value| -> Vec<u64> { c["in_shape"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect() };
    let geo = |k: &str, d: u64| c.get(k).and_then(Value::as_u64).unwrap_or(d);
    match c["type"].as_str().unwrap() {
        "conv2d" => {
            let s = shape(c);
            let w = c["weights"].as_array().unwrap();
            let k = w[0][0].as_array().unwrap().len() as u64;
            let (st, p, d) = (geo("stride", 1), geo("padding", 0), geo("dilation", 1));
            let o = (s[1] + 2 * p - d * (k - 1) - 1) / st + 1;
            (s.iter().product(), w.len() as u64 * o * o)
        }
        "sum_pool2d" | "avg_pool2d" => {
            let s = shape(c);
            let k = geo("kernel", 2);
            let (st, p) = (geo("stride", k), geo("padding", 0));
            let o = (s[1] + 2 * p - k) / st + 1;
            (s.iter().product(), s[0] * o * o)
        }
        _ => (8, 8),
    }
}

/// The synapses (pre, post, weight bits) a connector makes.
fn synapses(c: &Value, self_conn: bool, dir: &Path) -> Result<Vec<(u32, u32, u64)>, String> {
    let (a, b) = sizes(c);
    let post = if self_conn { "a" } else { "b" };
    let net = json!({
        "name": "c", "dt_ms": 1.0,
        "populations": [{"name": "a", "size": a, "model": "lif"}, {"name": "b", "size": b, "model": "lif"}],
        "projections": [{"pre": "a", "post": post, "weight": 0.5, "connector": c}]
    });
    let net = nerve_compiler::front::json::parse_network(&net.to_string(), &dir.join("c.json")).map_err(|e| e.to_string())?;
    let e = net.projections().next().unwrap().0;
    let sy = nerve_compiler::net::expand::expand(&net, e).map_err(|e| e.to_string())?;
    let mut v = Vec::new();
    for i in 0..sy.n_pre() {
        for k in sy.row(i) {
            v.push((i as u32, sy.post[k], sy.weight(k).to_bits()));
        }
    }
    v.sort_unstable();
    Ok(v)
}

#[test]
fn every_documented_connector_option_changes_the_synapses() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("conns.csv"), "pre,post,weight\n0,1,0.2\n5,3,0.1\n").unwrap();
    std::fs::write(dir.path().join("kinds.csv"), "pre,post,kind,weight\n0,1,chemical,0.2\n2,3,electrical,0.3\n4,4,chemical,0.1\n").unwrap();
    std::fs::write(dir.path().join("counted.csv"), "pre,post,count,weight\n0,1,7,0.2\n6,2,1,0.4\n").unwrap();
    let doc = documented_connectors();
    let rows = connector_rows();
    let have: BTreeSet<(String, String)> = rows.iter().map(|(c, o, ..)| (c.to_string(), o.to_string())).collect();
    let missing: Vec<_> = doc.difference(&have).collect();
    assert!(missing.is_empty(), "documented connector options without a row: {missing:?}");
    let stale: Vec<_> = have.difference(&doc).collect();
    assert!(stale.is_empty(), "rows for connector options the page does not list: {stale:?}");
    for (c, o, base, changed, self_conn) in &rows {
        let a = synapses(base, *self_conn, dir.path()).unwrap_or_else(|e| panic!("{c} {o} (base): {e}"));
        let b = synapses(changed, *self_conn, dir.path()).unwrap_or_else(|e| panic!("{c} {o} (changed): {e}"));
        assert!(!a.is_empty(), "{c} {o}: no synapses");
        assert_ne!(a, b, "{c}: changing `{o}` changed no synapse");
    }
}
