//! Every connector, against a direct computation of what it should produce.

use nerve_compiler::front::json::parse_network;
use nerve_compiler::net::expand::{expand, Synapses};
use nerve_compiler::net::model::Network;
use std::path::Path;

fn net(projection: &str, pre: u32, post: u32) -> Network {
    let text = format!(
        r#"{{"name": "t", "dt_ms": 1.0,
            "populations": [
              {{"name": "a", "size": {pre}, "model": "spike_source_array", "spike_times": [1.0]}},
              {{"name": "b", "size": {post}, "model": "lif"}}],
            "projections": [{projection}]}}"#
    );
    parse_network(&text, Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/net.json"))).unwrap()
}

fn syn(n: &Network) -> Synapses {
    expand(n, petgraph::graph::EdgeIndex::new(0)).unwrap()
}

fn pairs(s: &Synapses) -> Vec<(u32, u32)> {
    (0..s.n_pre()).flat_map(|i| s.row(i).map(move |k| (i as u32, s.post[k]))).collect()
}

#[test]
fn all_to_all_and_one_to_one() {
    let n = net(r#"{"pre": "a", "post": "b", "connector": {"type": "all_to_all"}, "weight": 0.5}"#, 3, 4);
    let s = syn(&n);
    assert_eq!(pairs(&s), (0..3).flat_map(|i| (0..4).map(move |j| (i, j))).collect::<Vec<_>>());
    assert_eq!(s.weight(0), 0.5);
    assert_eq!(s.delay(0), 1);
    let n = net(r#"{"pre": "a", "post": "b", "connector": {"type": "one_to_one"}, "weight": 0.5, "delay": 3.0}"#, 5, 5);
    let s = syn(&n);
    assert_eq!(pairs(&s), (0..5).map(|i| (i, i)).collect::<Vec<_>>());
    assert_eq!(s.delay(2), 3);
}

#[test]
fn fixed_probability_is_seeded_and_has_the_right_density() {
    let p = r#"{"pre": "a", "post": "b", "connector": {"type": "fixed_probability", "p": 0.1, "seed": 9}, "weight": 1.0}"#;
    let s1 = syn(&net(p, 400, 500));
    let s2 = syn(&net(p, 400, 500));
    assert_eq!(pairs(&s1), pairs(&s2));
    let expected = 400.0 * 500.0 * 0.1;
    let got = s1.len() as f64;
    // Binomial sd = sqrt(n p (1-p)) ≈ 134; 5 sd.
    assert!((got - expected).abs() < 5.0 * 134.2, "{got} vs {expected}");
    // Each post index at most once per pre (no multapses), sorted.
    for i in 0..400 {
        let r: Vec<u32> = s1.row(i).map(|k| s1.post[k]).collect();
        assert!(r.windows(2).all(|w| w[0] < w[1]));
    }
    let other = syn(&net(&p.replace("\"seed\": 9", "\"seed\": 10"), 400, 500));
    assert_ne!(pairs(&s1), pairs(&other));
    // p = 1 is all-to-all; p = 0 is empty.
    assert_eq!(syn(&net(&p.replace("0.1", "1.0"), 7, 9)).len(), 63);
    assert_eq!(syn(&net(&p.replace("0.1", "0.0"), 7, 9)).len(), 0);
}

#[test]
fn fixed_number_pre_and_post_are_exact() {
    let s = syn(&net(r#"{"pre": "a", "post": "b", "connector": {"type": "fixed_number_pre", "n": 7, "seed": 1}, "weight": 1.0}"#, 20, 30));
    let mut indeg = vec![Vec::new(); 30];
    for (i, j) in pairs(&s) {
        indeg[j as usize].push(i);
    }
    for d in &mut indeg {
        assert_eq!(d.len(), 7);
        d.sort();
        d.dedup();
        assert_eq!(d.len(), 7, "distinct sources");
    }
    let s = syn(&net(r#"{"pre": "a", "post": "b", "connector": {"type": "fixed_number_post", "n": 5, "seed": 1}, "weight": 1.0}"#, 20, 30));
    for i in 0..20 {
        let mut r: Vec<u32> = s.row(i).map(|k| s.post[k]).collect();
        assert_eq!(r.len(), 5);
        r.dedup();
        assert_eq!(r.len(), 5);
    }
}

#[test]
fn fixed_number_respects_self_connections() {
    let text = r#"{"populations": [{"name": "b", "size": 6, "model": "lif"}],
        "projections": [{"pre": "b", "post": "b", "connector": {"type": "fixed_number_post", "n": 5, "seed": 3, "allow_self_connections": false}, "weight": 1.0}]}"#;
    let n = parse_network(text, Path::new("x.json")).unwrap();
    let s = syn(&n);
    for (i, j) in pairs(&s) {
        assert_ne!(i, j);
    }
    assert_eq!(s.len(), 30);
    let e = parse_network(&text.replace("\"n\": 5", "\"n\": 6"), Path::new("x.json")).unwrap_err().to_string();
    assert!(e.contains("exceeds the 5 distinct candidates"), "{e}");
}

#[test]
fn from_list_inline_and_csv() {
    let s = syn(&net(
        r#"{"pre": "a", "post": "b", "connector": {"type": "from_list", "connections": [[2, 0, 0.5, 2.0], [0, 1, 0.25], [0, 0]]}, "weight": 1.5, "delay": 1.0}"#,
        3,
        2,
    ));
    assert_eq!(pairs(&s), vec![(0, 1), (0, 0), (2, 0)]);
    assert_eq!((s.weight(0), s.weight(1), s.weight(2)), (0.25, 1.5, 0.5));
    assert_eq!((s.delay(0), s.delay(1), s.delay(2)), (1, 1, 2));
    let s = syn(&net(r#"{"pre": "a", "post": "b", "connector": {"type": "from_list", "file": "conns.csv"}}"#, 3, 2));
    assert_eq!(pairs(&s), vec![(0, 1), (1, 1), (2, 0)]);
    assert_eq!(s.weight(2), 0.25);
    assert_eq!(s.delay(2), 2);
    // An empty list is a projection of no synapses, with or without `weight`, as p 0 is
    // (without one it was said to have no weight).
    for w in ["", r#", "weight": 1.5"#] {
        let s = syn(&net(&format!(r#"{{"pre": "a", "post": "b", "connector": {{"type": "from_list", "connections": []}}{w}}}"#), 3, 2));
        assert!(pairs(&s).is_empty(), "{w}");
    }
}

#[test]
fn dense_skips_zeros() {
    let s = syn(&net(r#"{"pre": "a", "post": "b", "connector": {"type": "dense", "weights": [[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]]}}"#, 3, 2));
    assert_eq!(pairs(&s), vec![(0, 1), (1, 0), (2, 1)]);
    assert_eq!((s.weight(0), s.weight(1), s.weight(2)), (2.0, 1.0, 3.0));
}

#[test]
fn conv2d_matches_a_direct_convolution() {
    // 2 input channels 4×5, 3 output channels, kernel 3×2, stride (1, 2), padding (1, 0).
    let (ci, h, w, co, kh, kw) = (2usize, 4usize, 5usize, 3usize, 3usize, 2usize);
    let weight = |o: usize, c: usize, y: usize, x: usize| ((o * 7 + c * 5 + y * 3 + x) % 4) as f64 * 0.5;
    let ws: Vec<Vec<Vec<Vec<f64>>>> =
        (0..co).map(|o| (0..ci).map(|c| (0..kh).map(|y| (0..kw).map(|x| weight(o, c, y, x)).collect()).collect()).collect()).collect();
    let (sy, sx, py, px) = (1usize, 2usize, 1usize, 0usize);
    let oh = (h + 2 * py - kh) / sy + 1;
    let ow = (w + 2 * px - kw) / sx + 1;
    let proj = format!(
        r#"{{"pre": "a", "post": "b", "connector": {{"type": "conv2d", "in_shape": [{ci}, {h}, {w}], "weights": {}, "stride": [{sy}, {sx}], "padding": [{py}, {px}]}}}}"#,
        serde_json::to_string(&ws).unwrap()
    );
    let s = syn(&net(&proj, (ci * h * w) as u32, (co * oh * ow) as u32));
    // Direct: for every output, the weighted sum over the window of an input with one active neuron.
    let mut expect = std::collections::BTreeMap::new();
    for o in 0..co {
        for oy in 0..oh {
            for ox in 0..ow {
                for c in 0..ci {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let iy = (oy * sy + ky) as i64 - py as i64;
                            let ix = (ox * sx + kx) as i64 - px as i64;
                            if iy < 0 || ix < 0 || iy >= h as i64 || ix >= w as i64 || weight(o, c, ky, kx) == 0.0 {
                                continue;
                            }
                            let pre = (c * h + iy as usize) * w + ix as usize;
                            let post = (o * oh + oy) * ow + ox;
                            *expect.entry((pre as u32, post as u32)).or_insert(0.0) += weight(o, c, ky, kx);
                        }
                    }
                }
            }
        }
    }
    let mut got = std::collections::BTreeMap::new();
    for i in 0..s.n_pre() {
        for k in s.row(i) {
            *got.entry((i as u32, s.post[k])).or_insert(0.0) += s.weight(k);
        }
    }
    assert_eq!(got, expect);
}

#[test]
fn pooling() {
    let s = syn(&net(r#"{"pre": "a", "post": "b", "connector": {"type": "avg_pool2d", "in_shape": [1, 4, 4], "kernel": 2}, "weight": 2.0}"#, 16, 4));
    assert_eq!(s.len(), 16);
    assert_eq!(s.weight(0), 0.5);
    // Input (1, 2) → output (0, 1).
    let r: Vec<u32> = s.row(6).map(|k| s.post[k]).collect();
    assert_eq!(r, vec![1]);
    let e = parse_network(
        r#"{"populations": [{"name": "a", "size": 16, "model": "input"}, {"name": "b", "size": 5, "model": "lif"}],
            "projections": [{"pre": "a", "post": "b", "connector": {"type": "sum_pool2d", "in_shape": [1, 4, 4], "kernel": 2}}]}"#,
        Path::new("p.json"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("output shape [1, 2, 2] has 4 neurons, post has 5"), "{e}");
}

/// The memory bound counts a pair of neurons once: a kernel of 2^20 padded
/// around 4 inputs was bounded at 2^40 synapses and the network refused as
/// needing 40,960 GiB; it has 4.
#[test]
fn huge_kernels_are_bounded_by_the_pairs() {
    let pool = net(
        r#"{"pre": "a", "post": "b", "connector": {"type": "sum_pool2d", "in_shape": [1, 2, 2], "kernel": 1048576, "padding": 524288}, "weight": 1.0}"#,
        4,
        1,
    );
    assert_eq!(nerve_compiler::compile::synapse_bound(&pool), 4);
    assert_eq!(syn(&pool).len(), 4);
}

/// A delay written as a half step rounds up, whatever its binary error:
/// 0.15 ms at 0.1 ms is 2 steps (0.15 / 0.1 = 1.4999999999999998 gave 1).
#[test]
fn half_step_delays_round_up() {
    const TIMES: [f64; 5] = [0.15, 0.25, 0.35, 1.15, 2.05];
    const STEPS: [u32; 5] = [2, 3, 4, 12, 21];
    let conns: Vec<String> = TIMES.iter().enumerate().map(|(i, t)| format!("[{i},{i},1.0,{t}]")).collect();
    let mut projs = vec![format!(r#"{{"pre":"a","post":"b","connector":{{"type":"from_list","connections":[{}]}}}}"#, conns.join(","))];
    for t in TIMES {
        projs.push(format!(r#"{{"pre":"a","post":"b","weight":1.0,"delay":{t},"connector":{{"type":"one_to_one"}}}}"#));
    }
    let text = format!(
        r#"{{"name":"d","dt_ms":0.1,"populations":[{{"name":"a","size":5,"model":"spike_source_array","spike_times":[]}},{{"name":"b","size":5,"model":"lif"}}],
        "projections":[{}]}}"#,
        projs.join(",")
    );
    let net = parse_network(&text, Path::new("d.json")).unwrap_or_else(|e| panic!("{e}"));
    let s = expand(&net, petgraph::graph::EdgeIndex::new(0)).unwrap();
    let per_synapse: Vec<u32> = (0..5).map(|k| s.delay(k) as u32).collect();
    assert_eq!(per_synapse, STEPS, "from_list delays");
    for (e, want) in STEPS.iter().enumerate() {
        let s = expand(&net, petgraph::graph::EdgeIndex::new(e + 1)).unwrap();
        assert_eq!(s.delay(0) as u32, *want, "delay {} ms", TIMES[e]);
    }
}
