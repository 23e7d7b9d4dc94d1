//! Bad inputs, one table: each row a command a stranger might type, on
//! files made here (bad JSON, wrong shapes, out-of-range values, NaN and
//! infinities, unknown names, files that are not what their extension says,
//! truncated and bit-flipped images and NIR files, spike files naming what
//! the network lacks, contradicting options, outputs that cannot be written).
//! Each must fail with its exit code and a message naming the culprit, never
//! print a panic, and leave no output file behind.

use std::path::Path;
use std::process::Command;

/// A small network with an input population, its image, and the bad files.
fn setup(dir: &Path) {
    let w = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    let net = r#"{"name":"ni","dt_ms":1.0,"populations":[{"name":"src","size":3,"model":"input"},{"name":"n","size":3,"model":"lif","record":["spikes"]}],
        "projections":[{"pre":"src","post":"n","weight":5.0,"connector":{"type":"one_to_one"}}]}"#;
    w("good.json", net);
    // A network reading its connections from a CSV file: no output may overwrite that file.
    w("fl.csv", "pre,post,weight\n0,0,0.5\n");
    w(
        "fl.json",
        r#"{"name":"fl","dt_ms":1.0,"populations":[{"name":"src","size":1,"model":"spike_source_array","spike_times":[[1.0]]},{"name":"n","size":1,"model":"lif"}],
        "projections":[{"pre":"src","post":"n","connector":{"type":"from_list","file":"fl.csv"}}]}"#,
    );
    let one = |body: &str| format!(r#"{{"name":"x","dt_ms":1.0,"populations":[{{"name":"a","size":2,"model":"lif"}}],"projections":[{body}]}}"#);
    let pops = |body: &str| format!(r#"{{"name":"x","dt_ms":1.0,"populations":[{body}],"projections":[]}}"#);
    w("trunc.json", r#"{"name": "x", "dt_ms": 1.0, "populations": ["#);
    w("notjson.json", "hello");
    // A repeated key would hide one of its values: refused, naming the key and where.
    w("twicekey.json", r#"{"populations": [{"name": "a", "size": 2, "model": "lif", "size": 3}]}"#);
    w("nopops.json", r#"{"name":"x","dt_ms":1.0}"#);
    w("badmodel.json", &pops(r#"{"name":"a","size":2,"model":"hodgkin"}"#));
    w("badkey.json", &pops(r#"{"name":"a","size":2,"model":"lif","params":{"tau_mm":3}}"#));
    w("negsize.json", &pops(r#"{"name":"a","size":-2,"model":"lif"}"#));
    w("zerosize.json", &pops(r#"{"name":"a","size":0,"model":"lif"}"#));
    w("dtneg.json", r#"{"name":"x","dt_ms":-1.0,"populations":[{"name":"a","size":2,"model":"lif"}],"projections":[]}"#);
    w("dupname.json", &pops(r#"{"name":"a","size":2,"model":"lif"},{"name":"a","size":2,"model":"lif"}"#));
    w("taum0.json", &pops(r#"{"name":"a","size":2,"model":"lif","params":{"tau_m":0}}"#));
    w("paramlen.json", &pops(r#"{"name":"a","size":2,"model":"lif","params":{"tau_m":[10,20,30]}}"#));
    w("twospikes.json", &pops(r#"{"name":"a","size":1,"model":"spike_source_array","spike_times":[[1.0,1.2]]}"#));
    // Values the fixed point cannot hold are named in their own units, not as the integer they would be.
    w("izk_c.json", &pops(r#"{"name":"a","size":1,"model":"izhikevich","params":{"c":1e6}}"#));
    w("izk_ioff.json", &pops(r#"{"name":"a","size":1,"model":"izhikevich","params":{"i_offset":1e9}}"#));
    w("izk_d.json", &pops(r#"{"name":"a","size":1,"model":"izhikevich","params":{"d":1e9}}"#));
    w("alif_jump.json", &pops(r#"{"name":"a","size":1,"model":"adaptive_lif","params":{"a_jump":1e9}}"#));
    // Between half and all of v's range: v_thresh + theta wrapped (it fired every step).
    w("alif_theta0.json", &pops(r#"{"name":"a","size":2,"model":"adaptive_lif","initial":{"theta":[10.0,-1500.0]}}"#));
    w("lif_isyn0.json", &pops(r#"{"name":"a","size":1,"model":"lif","initial":{"isyn_exc":1e12}}"#));
    w(
        "conv_groups0.json",
        r#"{"dt_ms":1.0,"populations":[{"name":"a","size":16,"model":"input"},{"name":"b","size":16,"model":"lif"}],
            "projections":[{"pre":"a","post":"b","weight":0.5,"connector":{"type":"conv2d","in_shape":[1,4,4],"weights":[[[[1.0]]]],"groups":0}}]}"#,
    );
    // Not UTF-8: named where; a byte-order mark is no error (below, a good network with one).
    std::fs::write(dir.join("notutf8.json"), b"{\"dt_ms\": 1.0, \"populations\": [{\"name\": \"a\xff\", \"size\": 2, \"model\": \"lif\"}]}").unwrap();
    w("negrate.json", &pops(r#"{"name":"a","size":1,"model":"spike_source_poisson","params":{"rate":-5}}"#));
    w("crowd.json", &pops(r#"{"name":"a","size":5000,"model":"lif"},{"name":"s","size":10,"model":"spike_source_poisson","params":{"rate":5}}"#));
    w("unkpop.json", &one(r#"{"pre":"a","post":"b","weight":1,"connector":{"type":"all_to_all"}}"#));
    w("badconn.json", &one(r#"{"pre":"a","post":"a","weight":1,"connector":{"type":"small_world"}}"#));
    w("pbig.json", &one(r#"{"pre":"a","post":"a","weight":1,"connector":{"type":"fixed_probability","p":1.5}}"#));
    w("listrange.json", &one(r#"{"pre":"a","post":"a","connector":{"type":"from_list","connections":[[0,5,1.0]]}}"#));
    // Below one step by its value, though it rounds up to one (0.5 ms at dt 1 ms).
    w("delayhalf.json", &one(r#"{"pre":"a","post":"a","weight":1,"delay":0.5,"connector":{"type":"all_to_all"}}"#));
    w("delayhalf_list.json", &one(r#"{"pre":"a","post":"a","connector":{"type":"from_list","connections":[[0,1,1.0,0.9]]}}"#));
    w("nanw.json", &one(r#"{"pre":"a","post":"a","weight":"NaN","connector":{"type":"all_to_all"}}"#));
    w("infw.json", &one(r#"{"pre":"a","post":"a","weight":1e400,"connector":{"type":"all_to_all"}}"#));
    w("negdelay.json", &one(r#"{"pre":"a","post":"a","weight":1,"delay":-3,"connector":{"type":"all_to_all"}}"#));
    w("vasthugedelay.json", &one(r#"{"pre":"a","post":"a","weight":1,"delay":1e300,"connector":{"type":"all_to_all"}}"#));
    w("hugedelay.json", &one(r#"{"pre":"a","post":"a","weight":1,"delay":100000,"connector":{"type":"all_to_all"}}"#));
    w("neginh.json", &one(r#"{"pre":"a","post":"a","weight":1,"receptor":"inhibitory","connector":{"type":"all_to_all"}}"#));
    w("badplast.json", &one(r#"{"pre":"a","post":"a","weight":1,"connector":{"type":"all_to_all"},"plasticity":{"type":"hebbian"}}"#));
    w(
        "badrule.json",
        r#"{"name":"x","dt_ms":1.0,"populations":[{"name":"a","size":2,"model":"loihi_lif","params":{"du":1,"dv":1,"vth":10}}],
            "projections":[{"pre":"a","post":"a","weight":1,"connector":{"type":"all_to_all"},"plasticity":{"type":"loihi","dw":"2^-2*x1*q0"}}]}"#,
    );
    w(
        "huge.json",
        r#"{"name":"x","dt_ms":1.0,"populations":[{"name":"a","size":1000000,"model":"lif"},{"name":"b","size":1000000,"model":"lif"}],
            "projections":[{"pre":"a","post":"b","weight":0.1,"connector":{"type":"all_to_all"}}]}"#,
    );
    w("sp_unknown.csv", "population,neuron,time\nnosuch,0,1\n");
    w("sp_unknown_late.csv", "population,neuron,time\nsrc,0,1\nnosuch,0,900\n");
    w("sp_never.csv", "population,neuron,time\nsrc,0,1\nsrc,1,1e300\n");
    w("sp_neuron.csv", "population,neuron,time\nsrc,7,1\n");
    w("sp_negtime.csv", "population,neuron,time\nsrc,0,-4\n");
    w("sp_header.csv", "pop,n,t\nsrc,0,1\n");
    w("sp_nan.csv", "population,neuron,time\nsrc,0,nan\n");
    w("sp_notsrc.csv", "population,neuron,time\nn,0,1\n");
    w("sp_poisson.csv", "population,neuron,time\nstim,0,1\n");
    w("sp_a.csv", "population,neuron,time\nsrc,0,1\n");
    w("sp_b.csv", "population,neuron,time\nsrc,1,3\nsrc,0,1.2\n");
    w("sp_dup.csv", "population,neuron,time\nsrc,2,4\nsrc,2,3.6\n");
    w("sp_huge.csv", "population,neuron,time\nsrc,0,1e300\n");
    // An input spike in a step where the spike array spikes the neuron itself.
    w("ssa.json", &pops(r#"{"name":"s","size":2,"model":"spike_source_array","spike_times":[[2.0,5.0],[3.0]],"record":["spikes"]}"#));
    w("sp_ssa.csv", "population,neuron,time\ns,1,2\ns,0,5.2\n");
    w("sp_far.csv", "population,neuron,time\nsrc,0,5e9\n");
    w(
        "lgood.json",
        r#"{"name":"li","dt_ms":1.0,"populations":[{"name":"src","size":3,"model":"input"},{"name":"n","size":3,"model":"loihi_lif","params":{"du":1,"dv":1,"vth":10}}],
            "projections":[{"pre":"src","post":"n","weight":5,"connector":{"type":"one_to_one"}}]}"#,
    );
    w("pl_slice.csv", "population,slice,core\nsrc,0,0\nn,5,1\n");
    // A blank line: the lines named are the file's, not counts of rows.
    w("pl_twice.csv", "population,slice,core\nsrc,0,3\n\nn,0,3\n");
    // Lone \r line ends (an old Mac file): every error said "line 1".
    w("pl_twice_cr.csv", "population,slice,core\rsrc,0,3\r\rn,0,3\r");
    // No header to point at: the message named a line past the file's end.
    w("pl_blank.csv", "\n\n");
    // Spikes for a network with no input population: the list of those was empty, "(input populations: )".
    w("sp_noinput.csv", "population,neuron,time\nnosuch,0,1\n");
    w("sp_blank.csv", "\r\n\n");
    w("sp_empty.csv", "");
    w("reldelay.json", &one(r#"{"pre":"a","post":"a","weight":1,"delay":40,"connector":{"type":"all_to_all"}}"#));
    w("pl_relay.csv", "population,slice,core\na,0,0\n");
    w("duphdr.csv", "pre,post,weight,weight\n0,0,1.0,50.0\n");
    w("duphdr.json", &one(r#"{"pre":"a","post":"a","connector":{"type":"from_list","file":"duphdr.csv"}}"#));
    std::fs::write(dir.join("latin1w.csv"), b"pre,post,weight\n0,0,1.0\n1,0,0.5\xb5\n").unwrap();
    w("latin1w.json", &one(r#"{"pre":"a","post":"a","connector":{"type":"from_list","file":"latin1w.csv"}}"#));
    // A device as a connection list: read for ever (4 GB before an out-of-memory end).
    w("devlist.json", &one(r#"{"pre":"a","post":"a","connector":{"type":"from_list","file":"/dev/zero"}}"#));
    w("sp_key.json", r#"{"spikes": [{"population": "src", "neuron": 0, "time": 1}], "spikez": []}"#);
    // A repeated key hid one of its values (serde_json keeps the last).
    w("sp_twice.json", r#"{"spikes": [{"population": "src", "neuron": 0, "time": 1}], "spikes": [{"population": "src", "neuron": 1, "time": 2}]}"#);
    w("sp_twice_in.json", r#"{"spikes": [{"population": "src", "neuron": 0, "time": 1, "time": 3}]}"#);
    w("fake.nir", "hello");
    // Found by fuzzing (`network`): a population of 10^9 neurons took minutes to parse (every neuron's parameters checked one by one).
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    std::fs::copy(fuzz.join("network_billion_neurons.json"), dir.join("billion.json")).unwrap();
    // Found by fuzzing (`nir`): a weight dataset shorter than its shape (an index out of bounds).
    std::fs::copy(fuzz.join("nir_short_weights.nir"), dir.join("short.nir")).unwrap();
    // A Linear whose weights are 16-bit floats (written with h5py).
    std::fs::copy(fuzz.join("nir_f16_weights.nir"), dir.join("f16.nir")).unwrap();
    w("notimage.img", net);
    // Profiles with kernel limits too small for a lif kernel (compile called them an internal error).
    let spinnaker = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../isa/profiles/spinnaker.toml")).unwrap();
    w("prof_instr.toml", &spinnaker.replace("kernel_max_instructions = 256", "kernel_max_instructions = 1"));
    w("prof_state.toml", &spinnaker.replace("max_state_slots = 16", "max_state_slots = 1"));
    // Weight exponents so low that a current's least step moves v past what its clamp allows: refused by name (it was an internal error).
    w("prof_coarse.toml", &spinnaker.replace("weight_exp_min = -16", "weight_exp_min = -31").replace("weight_exp_max = 16", "weight_exp_max = -28"));
    w("prof_exp.toml", &spinnaker.replace("weight_exp_min = -16", "weight_exp_min = -128").replace("weight_exp_max = 16", "weight_exp_max = -100"));
    // Seventy one-neuron cores behind one source: past the 57 application cores a SpiNNaker route word holds.
    w(
        "wide.json",
        r#"{"name":"x","dt_ms":1.0,"populations":[{"name":"s","size":2,"model":"spike_source_array","spike_times":[[1.0],[2.0]]},{"name":"a","size":70,"model":"lif"}],
            "projections":[{"pre":"s","post":"a","weight":1.0,"connector":{"type":"all_to_all"}}]}"#,
    );
    w("prof_c64.toml", &spinnaker.replace("cores_per_tile = 17", "cores_per_tile = 64"));
    // Delay extensions past sPyNNaker's 144 steps: the PyNN export's own limit speaks.
    w("prof_delay200.toml", &spinnaker.replace("max_extended_delay_steps = 144", "max_extended_delay_steps = 200"));
    // A mesh of 128-core tiles: no SpiNNaker machine, whatever its cores.
    let loihi = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../isa/profiles/loihi.toml")).unwrap();
    w("prof_mesh128.toml", &loihi.replace("cores_per_tile = 4 ", "cores_per_tile = 128 "));
    // lava's excitatory weights (0..255) on 8-bit synapses.
    w(
        "loihi_exc200.json",
        r#"{"name":"x","dt_ms":1.0,"populations":[{"name":"s","size":2,"model":"spike_source_array","spike_times":[[1.0],[2.0]]},{"name":"a","size":2,"model":"loihi_lif","params":{"du":3000,"dv":300,"vth":150}}],
            "projections":[{"pre":"s","post":"a","sign_mode":"excitatory","num_weight_bits":8,"connector":{"type":"from_list","connections":[[0,0,200],[1,1,10]]}}]}"#,
    );
    // Learning on 8-bit synapses: the rule takes a weight of 100 to 255, which was delivered.
    w(
        "learn_tiny.json",
        r#"{"name":"x","dt_ms":1.0,"populations":[{"name":"s","size":2,"model":"spike_source_array","spike_times":[[0,3,6,9],[1,4,7]]},{"name":"a","size":1,"model":"loihi_lif","params":{"du":4095,"dv":4095,"vth":150}}],
            "projections":[{"pre":"s","post":"a","label":"p","sign_mode":"excitatory","connector":{"type":"all_to_all"},"weight":100,"plasticity":{"type":"loihi","dw":"u0*2^3","t_epoch":1}}]}"#,
    );
    // Learning projections' initial weights beyond their sign mode's range (lava keeps them unclipped until the first epoch).
    for (name, mode, conns) in
        [("learn_exc300.json", "excitatory", "[0,0,20],[1,0,40],[0,1,300]"), ("learn_mixed.json", "mixed", "[0,0,20],[1,0,-300],[0,1,40]")]
    {
        w(
            name,
            &format!(
                r#"{{"name":"x","dt_ms":1.0,"populations":[{{"name":"s","size":2,"model":"spike_source_array","spike_times":[[0,1,2],[1]]}},{{"name":"a","size":2,"model":"loihi_lif","params":{{"du":4095,"dv":0,"vth":1000}}}}],
                "projections":[{{"pre":"s","post":"a","label":"learn","sign_mode":"{mode}","connector":{{"type":"from_list","connections":[{conns}]}},
                "plasticity":{{"type":"loihi","dw":"2^-3*u0*x1","x1_impulse":8,"x1_tau":0,"t_epoch":2,"rng_seed":1}}}}]}}"#
            ),
        );
    }
    // Delays past the slots at dt 0.1 ms: 146 × 0.1 is 14.600000000000001 in floating point, not what the message should say.
    for (name, ms) in [("delay14_6.json", 14.6), ("delay14_7.json", 14.7)] {
        w(
            name,
            &format!(
                r#"{{"name":"x","dt_ms":0.1,"populations":[{{"name":"s","size":1,"model":"spike_source_array","spike_times":[[1.0]]}},{{"name":"a","size":1,"model":"lif"}}],
                "projections":[{{"pre":"s","post":"a","weight":1.0,"delay":{ms},"connector":{{"type":"one_to_one"}}}}]}}"#
            ),
        );
    }
    // A run summary edited to a timestep whose run time overflows to infinity (the pictures' axis ticks never ended).
    let run = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../report/tests/data/run_small.json")).unwrap();
    let mut run: serde_json::Value = serde_json::from_str(&run).unwrap();
    run["dt_ms"] = 1e307.into();
    w("hugedt_run.json", &run.to_string());
    // Inputs that the commands without an output check overwrote.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::copy(root.join("report/tests/data/run_small.json"), dir.join("run.json")).unwrap();
    std::fs::copy(root.join("compiler/tests/data/nir/lif_norse.nir"), dir.join("m.nir")).unwrap();
    std::fs::copy(root.join("examples/kernels/if.s"), dir.join("k.s")).unwrap();
    std::fs::copy(root.join("examples/small.json"), dir.join("small.json")).unwrap();
    // Links to inputs: writing one writes into its file.
    std::os::unix::fs::symlink("good.json", dir.join("l.json")).unwrap();
    std::os::unix::fs::symlink("sp_a.csv", dir.join("la.csv")).unwrap();
    // A link to a file not yet there (through a second link): written through, it replaced the other output.
    std::os::unix::fs::symlink("out/new_rec.csv", dir.join("lnew.csv")).unwrap();
    std::os::unix::fs::symlink("lnew.csv", dir.join("lnew2.csv")).unwrap();
    // Images the rows below read.
    for args in [
        &["good.json", "--arch", "spinnaker", "-o", "good.img"][..],
        &["wide.json", "--arch", "prof_c64.toml", "--neurons-per-core", "1", "-o", "c64.img"],
        &["wide.json", "--arch", "spinnaker2", "--neurons-per-core", "1", "-o", "wide2.img"],
        &["wide.json", "--arch", "prof_mesh128.toml", "--neurons-per-core", "1", "-o", "mesh128.img"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_nerve")).current_dir(dir).arg("compile").args(args).arg("-q").output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let img = std::fs::read(dir.join("good.img")).unwrap();
    let mut flipped = img.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x10;
    std::fs::write(dir.join("flipped.img"), flipped).unwrap();
    std::fs::write(dir.join("truncated.img"), &img[..100]).unwrap();
    // A NIR file cut short (the first bytes of a real HDF5 file).
    let nir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../compiler/tests/data/nir");
    let real = std::fs::read_dir(&nir).ok().and_then(|mut d| d.find_map(|e| e.ok().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "nir"))));
    let bytes = real.map(std::fs::read).transpose().unwrap().unwrap_or_else(|| b"\x89HDF\r\n\x1a\n".repeat(40));
    std::fs::write(dir.join("trunc.nir"), &bytes[..200.min(bytes.len())]).unwrap();
}

/// (arguments, exit code, message fragments). Outputs go to `out/`, which must stay empty.
const ROWS: &[(&str, i32, &[&str])] = &[
    // Network files: JSON, shapes, values, names.
    ("compile trunc.json --arch spinnaker -o out/x.img", 1, &["trunc.json", "not valid JSON"]),
    ("compile notjson.json --arch spinnaker -o out/x.img", 1, &["notjson.json", "not valid JSON"]),
    ("compile twicekey.json --arch spinnaker -o out/x.img", 1, &["$.populations[0]", "key `size` appears twice"]),
    ("compile nopops.json --arch spinnaker -o out/x.img", 1, &["missing required key `populations`"]),
    ("compile badmodel.json --arch spinnaker -o out/x.img", 1, &["unknown model `hodgkin`", "known: lif"]),
    ("compile badkey.json --arch spinnaker -o out/x.img", 1, &["unknown key `tau_mm`", "tau_m"]),
    ("compile negsize.json --arch spinnaker -o out/x.img", 1, &["$.populations[0].size", "-2"]),
    ("compile zerosize.json --arch spinnaker -o out/x.img", 1, &["$.populations[0].size", "at least one neuron"]),
    ("compile dtneg.json --arch spinnaker -o out/x.img", 1, &["$.dt_ms", "positive"]),
    ("compile dupname.json --arch spinnaker -o out/x.img", 1, &["`a` is used twice"]),
    ("compile taum0.json --arch spinnaker -o out/x.img", 1, &["tau_m", "> 0"]),
    ("compile notutf8.json --arch spinnaker -o out/x.img", 1, &["notutf8.json", "not UTF-8 text: byte 0xff at line 1, column 43"]),
    ("compile izk_c.json --arch spinnaker -o out/x.img", 1, &["`a`", "c is at |v| = 1000000 mV", "up to 1638.4 mV"]),
    ("compile izk_ioff.json --arch spinnaker -o out/x.img", 1, &["`a`", "i_offset = 1000000000 nA", "±32768 mV"]),
    ("compile izk_d.json --arch spinnaker -o out/x.img", 1, &["`a`", "d = 1000000000 mV/ms", "±32768 mV/ms"]),
    ("compile alif_jump.json --arch spinnaker -o out/x.img", 1, &["`a`", "a_jump = 1000000000 mV", "±1024 mV"]),
    ("compile alif_theta0.json --arch spinnaker -o out/x.img", 1, &["`a`", "initial theta = -1500 mV", "±1024 mV, half of v's range"]),
    ("compile lif_isyn0.json --arch spinnaker -o out/x.img", 1, &["`a`", "isyn_exc + isyn_inh = 1000000000000 nA", "which holds ±37096.2 nA"]),
    ("compile paramlen.json --arch spinnaker -o out/x.img", 1, &["tau_m", "array of 2 numbers", "array of 3"]),
    ("compile twospikes.json --arch spinnaker -o out/x.img", 1, &["1 and 1.2 ms", "same 1 ms timestep"]),
    ("compile negrate.json --arch spinnaker -o out/x.img", 1, &["rate", "-5"]),
    ("compile unkpop.json --arch spinnaker -o out/x.img", 1, &["no population named `b`"]),
    ("compile badconn.json --arch spinnaker -o out/x.img", 1, &["unknown connector `small_world`"]),
    ("compile pbig.json --arch spinnaker -o out/x.img", 1, &["p must be in [0, 1]", "1.5"]),
    ("compile listrange.json --arch spinnaker -o out/x.img", 1, &["connection 0 (0, 5) is out of range"]),
    ("compile delayhalf.json --arch spinnaker -o out/x.img", 1, &["delay 0.5 ms is shorter than one timestep (1 ms)"]),
    ("compile delayhalf_list.json --arch spinnaker -o out/x.img", 1, &["delay 0.9 ms is shorter than one timestep (1 ms)"]),
    // The second `weight` column was ignored.
    ("compile duphdr.json --arch spinnaker -o out/x.img", 1, &["duphdr.csv", "line 1", "column `weight` is named twice"]),
    ("compile latin1w.json --arch spinnaker -o out/x.img", 1, &["latin1w.csv", "line 3", "weight `0.5\\xb5` is not UTF-8 text (its byte 4 is not)"]),
    ("compile nanw.json --arch spinnaker -o out/x.img", 1, &["$.projections[0].weight", "NaN"]),
    ("compile infw.json --arch spinnaker -o out/x.img", 1, &["infw.json", "number out of range"]),
    ("compile negdelay.json --arch spinnaker -o out/x.img", 1, &["delay -3 ms", "shorter than one timestep"]),
    // Not 300 digits.
    ("compile vasthugedelay.json --arch spinnaker -o out/x.img", 1, &["delay 1e300 ms is 1e300 timesteps", "more than any core supports (65535)"]),
    ("compile hugedelay.json --arch spinnaker -o out/x.img", 1, &["projection a→a", "100000"]),
    ("compile neginh.json --arch spinnaker -o out/x.img", 1, &["inhibitory", "weight 1"]),
    ("compile badplast.json --arch spinnaker -o out/x.img", 1, &["unknown plasticity type `hebbian`"]),
    ("compile badrule.json --arch loihi -o out/x.img", 1, &["cannot read `q0`"]),
    ("compile missing.json --arch spinnaker -o out/x.img", 1, &["missing.json"]),
    // Past the cores first (its neurons alone), then past the memory (export builds no cores).
    ("compile huge.json --arch spinnaker -o out/x.img", 1, &["needs at least 7814 cores but `spinnaker` has 4896"]),
    ("compile billion.json --arch loihi -o out/x.img", 1, &["needs at least 976565 cores but `loihi` has 4096"]),
    ("export lava billion.json --arch loihi -o out/x.py", 1, &["1000000022 neurons", "GiB"]),
    ("compile short.nir --arch loihi -o out/x.img", 1, &["short.nir", "values, its shape"]),
    // Said in words: the HDF5 type record's Debug form took five lines.
    ("compile f16.nir --arch loihi -o out/x.img", 1, &["f16.nir", "/node/nodes/fc/weight", "found a 16-bit float"]),
    ("export pynn huge.json --arch spinnaker -o out/x.py", 1, &["1000000000000 synapses"]),
    // Durations beyond the steps a run takes (spike arrays for every step were written on for ever).
    // Not a run length: a usage error.
    ("export pynn good.json --arch spinnaker -o out/x.py --duration=-1", 2, &["'-1' for '--duration <DURATION>'", "-1 is not a run length"]),
    ("export pynn good.json --arch spinnaker -o out/x.py --duration 0", 2, &["'0' for '--duration <DURATION>'"]),
    ("export pynn good.json --arch spinnaker -o out/x.py --duration nan", 2, &["'nan' for '--duration <DURATION>'"]),
    ("export pynn good.json --arch spinnaker -o out/x.py --duration inf", 2, &["'inf' for '--duration <DURATION>'"]),
    ("export pynn good.json --arch spinnaker -o out/x.py --duration x", 2, &["`x` is not a number of ms"]),
    ("export pynn good.json --arch spinnaker -o out/x.py --duration 1e308", 1, &["duration 1e308 ms", "1e308 timesteps of 1 ms", "4294967295"]),
    ("export pynn good.json --arch spinnaker -o out/x.py --duration 4294967296", 1, &["duration 4294967296 ms", "more than 4294967295"]),
    ("export lava good.json --arch loihi -o out/x.py --steps 4294967296", 2, &["--steps", "4294967296", "1..=4294967295"]),
    ("export lava good.json --arch loihi -o out/x.py --steps 0", 2, &["--steps", "0", "1..=4294967295"]),
    ("compile good.json --arch nosuch -o out/x.img", 1, &["unknown architecture profile `nosuch`"]),
    (
        "compile good.json --arch prof_instr.toml -o out/x.img",
        1,
        &["population `n` does not fit `spinnaker`", "kernel `lif`'s instructions (core.kernel_max_instructions)", "a core has 1"],
    ),
    ("compile good.json --arch prof_state.toml -o out/x.img", 1, &["population `n`", "kernel `lif`'s state slots (core.max_state_slots)", "a core has 1"]),
    ("compile good.json --arch prof_coarse.toml -o out/x.img", 1, &["population `n`", "more than an eighth of v's range", "weight exponents", "-31..-28"]),
    // Exponents past a 32-bit shift compiled with every weight rounded to 0.
    ("compile good.json --arch prof_exp.toml -o out/x.img", 1, &["core.weight_exp_min", "-128", "-31..=31"]),
    // Files that are not what they say, cut short or corrupted.
    ("run flipped.img --steps 5", 1, &["checksum mismatch", "corrupt"]),
    // Each names the image file.
    ("run truncated.img --steps 5", 1, &["truncated.img: ", "truncated"]),
    // A JSON network whatever its name (a pipe's has no .json to go by): run compiles it, given --arch.
    ("run notimage.img --steps 5", 2, &["notimage.img: ", "a network needs --arch"]),
    ("inspect trunc.nir", 1, &["trunc.nir: ", "not a nerve image", "looks like an HDF5 (NIR) network"]),
    ("inspect good.json", 1, &["good.json: ", "not a nerve image", "looks like a JSON network", "`nerve run` compiles a network given --arch"]),
    ("inspect truncated.img", 1, &["truncated.img: ", "truncated"]),
    ("disasm flipped.img", 1, &["flipped.img: ", "checksum mismatch"]),
    ("export spinnaker-tables flipped.img -o out/t.json", 1, &["flipped.img: ", "checksum mismatch"]),
    // Devices are refused as every input (they were read until memory ran out).
    ("arch show /dev/zero", 1, &["/dev/zero", "a device, not a file"]),
    ("compile good.json --arch /dev/zero -o out/x.img", 1, &["/dev/zero", "a device, not a file"]),
    ("compile good.json --arch spinnaker --placement /dev/zero -o out/x.img", 1, &["/dev/zero", "a device, not a file"]),
    ("export spinnaker-tables wide2.img -o out/t.json", 1, &["spinnaker-tables", "reaches core 7", "past the 57 application cores a 64-bit route word holds"]),
    ("export spinnaker-tables c64.img -o out/t.json", 1, &["spinnaker-tables", "reaches core 6", "past the 57 application cores a 64-bit route word holds"]),
    // The machine is named first (its 70 cores on one tile were called "past the 57 of its chip").
    ("export spinnaker-tables mesh128.img -o out/t.json", 1, &["architecture `loihi`", "one router per chip on a hexagonal torus"]),
    ("compile loihi_exc200.json --arch tiny -o out/x.img", 1, &["projection s→a", "mantissa 200", "8-bit synapses of `tiny` (−128..127)"]),
    (
        "compile learn_tiny.json --arch tiny -o out/x.img",
        1,
        &["projection p", "it learns", "excitatory weights anywhere in 0..255", "8-bit synapses of `tiny` (−128..127)"],
    ),
    ("compile delay14_6.json --arch loihi -o out/x.img", 1, &["a delay of 146 timesteps (14.6 ms)", "`loihi`'s 63 delay slots"]),
    ("compile delay14_7.json --arch spinnaker -o out/x.img", 1, &["a delay of 147 timesteps (14.7 ms)", "`spinnaker`'s 144"]),
    ("export pynn delay14_7.json --arch prof_delay200.toml --backend spinnaker -o out/x.py", 1, &["delay 14.7 ms (147 timesteps)", "sPyNNaker's 144"]),
    ("compile learn_exc300.json --arch loihi -o out/x.img", 1, &["projection learn", "synapse 0 → 1", "initial weight 300", "`excitatory`'s 0..255"]),
    ("run learn_mixed.json --arch loihi --steps 4", 1, &["projection learn", "synapse 1 → 0", "initial weight -300", "`mixed`'s −256..255"]),
    ("compile fake.nir --arch loihi -o out/x.img", 1, &["fake.nir", "HDF5"]),
    ("compile trunc.nir --arch loihi -o out/x.img", 1, &["trunc.nir"]),
    // Spike files.
    ("run good.img --steps 5 --input sp_unknown.csv --record out/s.csv", 1, &["sp_unknown.csv: spike 0", "`nosuch`", "no population of that name", "src"]),
    ("run good.img --steps 5 --input sp_unknown_late.csv --record out/s.csv", 1, &["sp_unknown_late.csv", "`nosuch`", "900 ms"]),
    // Past the longest run: no run reaches it (the note said to run more steps).
    (
        "run good.img --steps 5 --input sp_never.csv --record out/s.csv",
        1,
        &["sp_never.csv: spike 1 (`src` neuron 1", "after 4294967294, the last step of the longest run"],
    ),
    ("run good.img --steps 5 --input sp_neuron.csv --record out/s.csv", 1, &["sp_neuron.csv: spike", "neuron 7", "3 neurons"]),
    ("run good.img --steps 5 --input sp_negtime.csv --record out/s.csv", 1, &["sp_negtime.csv", "line 2", "-4"]),
    ("run good.img --steps 5 --input sp_header.csv --record out/s.csv", 1, &["line 1", "population,neuron,time"]),
    ("run good.img --steps 5 --input sp_nan.csv --record out/s.csv", 1, &["line 2", "nan"]),
    (
        "run good.img --steps 5 --input sp_notsrc.csv --record out/s.csv",
        1,
        &["sp_notsrc.csv: spike", "a lif population", "only to `input` and `spike_source_array` populations"],
    ),
    // A Poisson source draws its own spikes: not "a spike-source population" to feed.
    (
        "run small.json --arch spinnaker --steps 5 --input sp_poisson.csv",
        1,
        &["sp_poisson.csv: spike 0", "a spike_source_poisson population", "only to `input` and `spike_source_array`"],
    ),
    // One spike given in two files was merged silently (in one file, an error).
    (
        "run good.img --steps 5 --input sp_a.csv --input sp_b.csv --record out/s.csv",
        1,
        &["sp_b.csv", "`src` neuron 0 fall in timestep 1", "spike 0 at 1 ms in sp_a.csv and spike 1 at 1.2 ms"],
    ),
    // ... and one falling on a spike-source array's own spike (merged silently too).
    (
        "run ssa.json --arch spinnaker --steps 10 --input sp_ssa.csv --record out/s.csv",
        1,
        &["sp_ssa.csv: spike 1 (`s` neuron 0 at 5.2 ms) falls in timestep 5", "spike array already spikes the neuron", "at most once a step"],
    ),
    // The exporters read --input as `nerve run` does (they merged both cases silently).
    // Both spikes named, by place and time (the message gave one time).
    (
        "export pynn good.json --arch spinnaker -o out/x.py --input sp_dup.csv",
        1,
        &["sp_dup.csv", "two spikes of `src` neuron 2 fall in timestep 4", "spike 0 at 4 ms and spike 1 at 3.6 ms"],
    ),
    // A time far past the run reads as a number, not 301 digits.
    ("run good.img --steps 5 --input sp_huge.csv --record out/s.csv", 1, &["sp_huge.csv: spike 0 (`src` neuron 0 at 1e300 ms)"]),
    (
        "export lava lgood.json --arch loihi -o out/x.py --input sp_a.csv --input sp_b.csv",
        1,
        &["sp_b.csv", "`src` neuron 0 fall in timestep 1", "spike 0 at 1 ms in sp_a.csv and spike 1 at 1.2 ms"],
    ),
    ("export lava lgood.json --arch loihi -o out/x.py --input sp_far.csv", 1, &["sp_far.csv", "step 5e9", "after 4294967294"]),
    // A spike the network cannot take is named in its file (it was "input spike 1", its place among all the files' spikes).
    (
        "export pynn good.json --arch spinnaker -o out/x.py --input sp_a.csv --input sp_unknown_late.csv",
        1,
        &["sp_unknown_late.csv: spike 1 (`nosuch` neuron 0 at 900 ms)", "no population of that name"],
    ),
    ("export lava lgood.json --arch loihi -o out/x.py --input sp_neuron.csv", 1, &["sp_neuron.csv: spike 0", "neuron 7 does not exist"]),
    ("compile conv_groups0.json --arch spinnaker -o out/x.img", 1, &["connector.groups", "groups must be at least 1"]),
    ("run good.img --steps 5 --input sp_key.json --record out/s.csv", 1, &["sp_key.json", "unknown key `spikez`", "`spikes` only"]),
    ("run good.img --steps 5 --input sp_twice.json --record out/s.csv", 1, &["sp_twice.json", "key `spikes` appears twice"]),
    ("compile devlist.json --arch spinnaker -o out/x.img", 1, &["/dev/zero", "a device, not a file"]),
    ("compile /dev/zero --arch spinnaker -o out/x.img", 1, &["/dev/zero", "a device, not a file"]),
    ("run good.img --steps 5 --input /dev/zero --record out/s.csv", 1, &["/dev/zero", "a device, not a file"]),
    ("export pynn good.json --arch spinnaker -o out/x.py --input sp_twice_in.json", 1, &["sp_twice_in.json", "$.spikes[0]", "key `time` appears twice"]),
    // Options: unknown names, out-of-range values, contradictions.
    ("run good.img --steps 5 --probe n:nosuch --probe-out out/p.csv", 1, &["`n` has no variable `nosuch`", "v, isyn"]),
    // A source has no state: "(it has: )" said nothing.
    ("run good.img --steps 5 --probe src:v", 1, &["probe `src:v`: `src` (model `input`) has no variables to probe"]),
    ("run good.img --steps 5 --probe nosuch:v --probe-out out/p.csv", 1, &["no population `nosuch`"]),
    // What a --probe says is a usage error, as `nerve --help` has it (exit 2); what the image lacks is not.
    ("run good.img --steps 5 --probe nv --probe-out out/p.csv", 2, &["--probe `nv`: expected POP:VAR"]),
    ("run good.img --steps 5 --probe n:v --probe n:v", 2, &["--probe `n:v` is given twice"]),
    ("run good.img --steps 5 --probe n:", 2, &["--probe `n:`: expected POP:VAR"]),
    ("run good.img --steps 5 --probe :", 2, &["--probe `:`: expected POP:VAR"]),
    ("run good.img --steps 5 --decision nosuch --report out/r.json", 1, &["`nosuch`", "no such population"]),
    ("run good.img --steps 5 --arch loihi --record out/s.csv", 2, &["--arch", "only for compiling a network"]),
    ("run good.json --steps 5 --record out/s.csv", 2, &["needs --arch"]),
    ("run good.img --steps 5 --format npy --record out/s.csv", 2, &["--format npy contradicts", "s.csv"]),
    ("run good.img --steps 5 --format json", 2, &["--format", "--record"]),
    // Nothing was written, without a word.
    ("run good.img --steps 5 --probe-out out/p.csv", 2, &["--probe-out out/p.csv", "give --probe"]),
    // Usage errors that clap cannot see (the options' values are each fine): 2, as clap's own.
    ("run good.img --steps 4294967296", 2, &["--steps 4294967296 exceeds 4294967295", "Usage: nerve run"]),
    ("run good.img --steps 5 --placement spread --record out/s.csv", 2, &["--placement: only for compiling a network", "good.img is an image"]),
    // Given is given, its default value too: it was let through as if absent.
    ("run good.img --steps 5 --placement pack --seed 0 --record out/s.csv", 2, &["--seed, --placement: only for compiling a network", "good.img is an image"]),
    ("run good.img --steps 5 --effort 60 --shared-routes 0.25", 2, &["--effort, --shared-routes: only for compiling a network"]),
    ("compile good.json --arch spinnaker -o out/x.img --source auto", 2, &["--source: only for a NIR network", "good.json is not one"]),
    // Spikes may be recorded as JSON, probes not: a .json name held CSV.
    ("run good.img --steps 5 --probe n:v --probe-out out/p.JSON", 2, &["--probe-out out/p.JSON", "not JSON: name it .csv"]),
    ("run good.img --steps 5 --save-weights out/w.csv", 1, &["no learning projections"]),
    // Refused before the run: a streamed recording was on disk when the refusal came.
    ("run good.img --steps 5 --save-weights out/w.csv --record out/s.csv --max-memory 1", 1, &["--save-weights", "no learning projections"]),
    // A network's image and mapping report are written only once the run's options are checked (both were left behind).
    ("run good.json --arch spinnaker --steps 5 --probe n:nosuch --save-image out/x.img --compile-report out/m.json", 1, &["`n` has no variable `nosuch`"]),
    (
        "run good.json --arch spinnaker --steps 5 --decision nosuch --save-image out/x.img --compile-report out/m.json",
        1,
        &["--decision `nosuch`", "no such population"],
    ),
    (
        "run good.json --arch spinnaker --steps 5 --input sp_neuron.csv --save-image out/x.img --compile-report out/m.json",
        1,
        &["sp_neuron.csv: spike", "neuron 7"],
    ),
    ("run good.json --arch spinnaker --steps 5 --input sp_nan.csv --save-image out/x.img --compile-report out/m.json", 1, &["line 2", "nan"]),
    ("run good.json --arch spinnaker --steps 4294967296 --save-image out/x.img --compile-report out/m.json", 2, &["--steps 4294967296 exceeds 4294967295"]),
    (
        "run good.json --arch spinnaker --steps 5 --probe n:v --probe n:isyn --probe-out out/p.npy --save-image out/x.img",
        2,
        &["--probe-out .npy holds one probe"],
    ),
    ("run good.json --arch spinnaker --steps 5 --save-weights out/w.csv --save-image out/x.img", 1, &["no learning projections"]),
    ("run good.json --arch spinnaker --steps 5 --save-network out/n.nir", 2, &["--save-network out/n.nir", "a .json path"]),
    ("run good.img --steps 5 --save-network out/n.json", 2, &["--save-network", "good.img"]),
    ("run good.img --steps 5 --inference-steps 0", 2, &["--inference-steps", "0"]),
    ("compile good.json --arch spinnaker --neurons-per-core 0 -o out/x.img", 2, &["--neurons-per-core", "0"]),
    // The network's own from_list file is an input of every command that reads the network.
    ("export pynn fl.json --arch spinnaker -o fl.csv", 1, &["-o fl.csv: is an input of this command"]),
    ("export lava fl.json --arch loihi -o fl.csv", 1, &["-o fl.csv: is an input of this command"]),
    ("export nir fl.json --arch loihi -o fl.csv", 1, &["-o fl.csv: is an input of this command"]),
    ("compile fl.json --arch spinnaker -o fl.csv", 1, &["-o fl.csv: is an input of this command"]),
    ("run fl.json --arch spinnaker --steps 5 --record fl.csv", 1, &["--record fl.csv: is an input of this command"]),
    ("run fl.json --arch spinnaker --steps 5 --save-image out/x.img --save-weights fl.csv", 1, &["--save-weights fl.csv: is an input of this command"]),
    // --neurons-per-core where it would change nothing: lava has no such option, NEST no cores.
    ("export lava good.json --arch loihi --neurons-per-core 4 -o out/x.py", 2, &["--neurons-per-core"]),
    ("export pynn good.json --arch spinnaker --backend nest --neurons-per-core 4 -o out/x.py", 2, &["--neurons-per-core", "--backend nest has no cores"]),
    ("compile fake.nir --arch loihi --dt=-1 -o out/x.img", 2, &["--dt", "-1 is not a timestep"]),
    ("compile fake.nir --arch loihi --dt 0 -o out/x.img", 2, &["--dt", "0 is not a timestep"]),
    ("run good.img --steps abc", 2, &["--steps", "abc"]),
    // A missing required option: the usage line is the command's own, not one listing the options given as required.
    ("compile good.json -o out/x.img", 2, &["--arch <ARCH>", "Usage: nerve compile [OPTIONS] --arch <ARCH> <NETWORK>\n"]),
    ("export --list pynn good.json --arch spinnaker -o out/x.py", 2, &["--list", "takes no target", "Usage: nerve export"]),
    ("export pynn good.json --weights original", 2, &["Usage: nerve export pynn [OPTIONS] --arch <ARCH> --output <OUTPUT> <NETWORK>\n"]),
    ("run good.img --steps 5 --max-memory 0", 2, &["--max-memory", "at least 1 byte"]),
    ("run good.img --steps 5 --max-memory 5X", 2, &["--max-memory", "unknown unit `X`"]),
    ("run good.img --steps 5 --max-memory lots", 2, &["--max-memory", "`lots` is not a size"]),
    // B and iB once, after a unit or B alone (1BBBB and 1iB were taken as 1 byte).
    ("run good.img --steps 5 --max-memory 1BBBB", 2, &["--max-memory", "unknown unit `BBBB`"]),
    ("run good.img --steps 5 --max-memory 1iB", 2, &["--max-memory", "unknown unit `iB`"]),
    // Streamed (over the budget) or not, refused before the run, leaving nothing behind.
    ("run good.img --steps 50 --probe n:v --probe n:isyn --probe-out out/p.npy --max-memory 1K", 2, &["--probe-out .npy holds one probe"]),
    ("run good.img --steps 50 --probe n:v --probe n:isyn --probe-out out/p.npy", 2, &["--probe-out .npy holds one probe"]),
    // Not `pack`, `spread` or a file: a bad option value, a usage error.
    (
        "compile good.json --arch spinnaker --placement nosuch.csv -o out/x.img",
        2,
        &["'nosuch.csv' for '--placement <PLACEMENT>'", "expected `pack`, `spread` or an existing CSV file"],
    ),
    ("compile good.json --arch spinnaker --placement bogus -o out/x.img", 2, &["'bogus' for '--placement <PLACEMENT>'"]),
    ("run good.json --arch spinnaker --placement bogus --steps 5", 2, &["'bogus' for '--placement <PLACEMENT>'"]),
    // The checks that need the network named the file "placement".
    (
        "compile good.json --arch spinnaker --placement pl_slice.csv -o out/x.img",
        1,
        &["placement file pl_slice.csv: line 3: ", "`n` has 1 slices", "slice 5 does not exist"],
    ),
    ("compile good.json --arch spinnaker --placement pl_twice.csv -o out/x.img", 1, &["pl_twice.csv: line 4: core 3 is given twice (first at line 2)"]),
    ("compile good.json --arch spinnaker --placement pl_twice_cr.csv -o out/x.img", 1, &["pl_twice_cr.csv: line 4: core 3 is given twice (first at line 2)"]),
    (
        "compile good.json --arch spinnaker --placement pl_blank.csv -o out/x.img",
        1,
        &["pl_blank.csv: the file holds only blank lines: the header must be `population,slice,core`"],
    ),
    ("run good.img --steps 5 --input sp_blank.csv --record out/s.csv", 1, &["sp_blank.csv: the file holds only blank lines: the header must be"]),
    ("run good.img --steps 5 --input sp_empty.csv --record out/s.csv", 1, &["sp_empty.csv: the file is empty: the header must be"]),
    (
        "run reldelay.json --arch spinnaker --steps 5 --input sp_noinput.csv --record out/s.csv",
        1,
        &["sp_noinput.csv", "`nosuch`", "no population of that name (the network has no input or spike_source_array population to feed)"],
    ),
    // The compiler's delay relays are slices a placement file must place too: said so.
    (
        "compile reldelay.json --arch spinnaker --placement pl_relay.csv -o out/x.img",
        1,
        &["pl_relay.csv", "`a.delay1` slice 0 has no core (a delay-extension relay the compiler adds"],
    ),
    ("export lava good.json --arch loihi -o out/x.py", 1, &["population `n` (lif)", "lava"]),
    // Run summaries edited to values no run writes.
    ("report hugedt_run.json --html out/h.html", 1, &["hugedt_run.json", "`dt_ms` = 1e307", "1e100"]),
    ("report hugedt_run.json --plots out/p -q", 1, &["hugedt_run.json", "`dt_ms` = 1e307"]),
    // Outputs that cannot be written, checked before any work.
    ("run good.img --steps 5 --record nodir/s.csv", 1, &["--record nodir/s.csv", "does not exist"]),
    ("run good.img --steps 5 --record good.img", 1, &["--record good.img", "would overwrite it"]),
    ("run good.img --steps 5 --input sp_unknown.csv --record sp_unknown.csv", 1, &["would overwrite it"]),
    ("run good.img --steps 5 --record out/s.csv --report out/s.csv", 1, &["--report out/s.csv", "--record writes the same file"]),
    ("run good.img --steps 5 --probe n:v --probe-out nodir/p.csv", 1, &["--probe-out nodir/p.csv", "does not exist"]),
    ("compile good.json --arch spinnaker -o nodir/x.img", 1, &["-o nodir/x.img", "does not exist"]),
    ("compile good.json --arch spinnaker -o out", 1, &["-o out", "is a directory"]),
    ("compile good.json --arch spinnaker -o good.json", 1, &["-o good.json", "would overwrite it"]),
    // A symbolic link to an input, or to another output, is that file.
    ("run good.json --arch spinnaker --steps 5 --save-network l.json", 1, &["--save-network l.json", "would overwrite it"]),
    ("compile l.json --arch spinnaker -o good.json", 1, &["-o good.json", "would overwrite it"]),
    ("run good.img --steps 5 --record sp_a.csv --report la.csv", 1, &["--report la.csv", "--record writes the same file"]),
    ("run good.img --steps 5 --record out/new_rec.csv --report lnew2.csv", 1, &["--report lnew2.csv", "--record writes the same file"]),
    // Every command that writes checks its outputs first (report, export and asm did not).
    ("report run.json --html run.json", 1, &["--html run.json", "would overwrite it"]),
    ("report run.json --plots run.json", 1, &["--plots run.json", "not a directory"]),
    // The pictures were written, then --html failed.
    ("report run.json --plots out/p --html nodir/r.html", 1, &["--html nodir/r.html", "does not exist"]),
    ("export spinnaker-tables good.img -o good.img", 1, &["-o good.img", "would overwrite it"]),
    ("export spinnaker-tables good.img -o out/t.json --binary out/t.json", 1, &["--binary out/t.json", "-o writes the same file"]),
    // The JSON was written, then --binary failed.
    ("export spinnaker-tables good.img -o out/t.json --binary nodir/t.bin", 1, &["--binary nodir/t.bin", "does not exist"]),
    ("export nir m.nir --arch loihi -o m.nir", 1, &["-o m.nir", "would overwrite it"]),
    // More neurons than cores for them: refused before any synapse is built, at least as many as the neurons alone need.
    (
        "compile crowd.json --arch spinnaker --neurons-per-core 1 -o out/x.img",
        1,
        &["needs at least 5010 cores but `spinnaker` has 4896", "or a higher cap of neurons per core"],
    ),
    // A write error said "cannot read" (/dev/full: Linux).
    ("export nir m.nir --arch loihi -o /dev/full", 1, &["cannot write /dev/full"]),
    ("export pynn good.json --arch spinnaker -o good.json", 1, &["-o good.json", "would overwrite it"]),
    ("export pynn good.json --arch spinnaker -o sp_a.csv --input sp_a.csv", 1, &["-o sp_a.csv", "would overwrite it"]),
    ("compile good.json --arch spinnaker --placement pl_slice.csv -o pl_slice.csv", 1, &["-o pl_slice.csv", "would overwrite it"]),
    ("run good.json --arch spinnaker --placement pl_slice.csv --steps 5 --record pl_slice.csv", 1, &["--record pl_slice.csv", "would overwrite it"]),
    ("compile good.json --arch prof_state.toml -o prof_state.toml", 1, &["-o prof_state.toml", "would overwrite it"]),
    // The exporters stop after the partition: placement and routing options changed nothing they wrote, and were taken silently.
    ("export pynn good.json --arch spinnaker -o out/x.py --seed 3", 2, &["unexpected argument '--seed'"]),
    ("export pynn good.json --arch spinnaker -o out/x.py --placement spread", 2, &["unexpected argument '--placement'"]),
    ("export lava lgood.json --arch loihi -o out/x.py --effort 0", 2, &["unexpected argument '--effort'"]),
    ("export lava lgood.json --arch loihi -o out/x.py --shared-routes 0", 2, &["unexpected argument '--shared-routes'"]),
    ("export lava lgood.json --arch loihi -o lgood.json", 1, &["-o lgood.json", "would overwrite it"]),
    ("export pynn good.json --arch spinnaker -o nodir/x.py", 1, &["-o nodir/x.py", "does not exist"]),
    ("asm k.s -o k.s", 1, &["-o k.s", "would overwrite it"]),
    ("asm k.s -o nodir/k.bin", 1, &["-o nodir/k.bin", "does not exist"]),
];

#[test]
fn every_bad_input_is_refused_with_its_culprit() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let before: Vec<(String, Vec<u8>)> = files(dir.path());
    assert!(ROWS.len() >= 60, "{} rows", ROWS.len());
    for &(args, code, want) in ROWS {
        let out = Command::new(env!("CARGO_BIN_EXE_nerve")).current_dir(dir.path()).args(args.split(' ')).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "`nerve {args}`: exit {:?}, expected {code}\n{err}", out.status.code());
        assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "`nerve {args}` panicked:\n{err}");
        for w in want {
            assert!(err.contains(w), "`nerve {args}`: the message lacks `{w}`:\n{err}");
        }
        assert_eq!(std::fs::read_dir(dir.path().join("out")).unwrap().count(), 0, "`nerve {args}` left an output file");
        assert_eq!(files(dir.path()), before, "`nerve {args}` changed or left a file");
    }
}

/// Every file of `dir` (not in subdirectories), with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    v.sort();
    v
}

/// Input spikes after the run are checked like the others and counted in a
/// note (not dropped without a word); `-q` silences the note, not the check.
#[test]
fn input_spikes_after_the_run_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    // 99.5 ms rounds to step 100, after the run; 99.4 ms to its last step, 99.
    std::fs::write(dir.path().join("late.csv"), "population,neuron,time\nsrc,0,5\nsrc,1,50\nsrc,2,900\nsrc,0,1000\nsrc,1,99.5\nsrc,2,99.4\n").unwrap();
    let run = |q: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_nerve"));
        c.current_dir(dir.path()).args(["run", "good.img", "--steps", "100", "--input", "late.csv"]);
        if q {
            c.arg("-q");
        }
        let out = c.output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    let e = run(false);
    assert!(e.contains("note: 3 input spike(s) fall at or after 99.5 ms, in step 100 or later, after this 100-step run"), "{e}");
    assert!(!run(true).contains("note:"));
}

/// CRC-32 (IEEE), as the image header holds it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xedb8_8320 } else { c >> 1 };
        }
    }
    !c
}

/// Found by fuzzing (fuzz/ target `image`): an image whose first string
/// claims 4 GiB (a valid header and checksum over a lying payload) made the
/// decoder allocate it before finding the bytes absent. Under a 1 GiB address
/// space the tool must refuse the file with an error, not die allocating.
#[test]
fn an_image_claiming_a_huge_string_is_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let img = std::fs::read(dir.path().join("good.img")).unwrap();
    let (header, payload) = img.split_at(32);
    // The payload starts with the profile's name: its length, then its bytes.
    let mut lying = vec![0xfc];
    lying.extend_from_slice(&0xffff_ff00u32.to_le_bytes());
    lying.extend_from_slice(&payload[1..]);
    let mut bytes = header[..16].to_vec();
    bytes.extend_from_slice(&(lying.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32(&lying).to_le_bytes());
    bytes.extend_from_slice(&header[28..32]);
    bytes.extend_from_slice(&lying);
    std::fs::write(dir.path().join("lying.img"), &bytes).unwrap();
    let script = format!("ulimit -v 1048576; exec {} inspect lying.img", env!("CARGO_BIN_EXE_nerve"));
    let out = Command::new("sh").current_dir(dir.path()).args(["-c", &script]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("lying.img") || err.contains("image"), "{err}");
    assert!(!err.contains("memory allocation") && !err.contains("panicked"), "{err}");
}

/// Found by fuzzing (fuzz/ targets `nir` and `image`), kept as they were
/// found: a NIR file whose dataset claims 2^51 elements, and an image payload
/// (after the fuzz target's mode byte) whose string claims 4 GiB. Each is
/// refused with an error under a 1 GiB address space.
#[test]
fn fuzz_findings_are_refused() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let dir = tempfile::tempdir().unwrap();
    let found = std::fs::read(data.join("image_huge_string.bin")).unwrap();
    let payload = &found[1..];
    let mut img = b"NERVEIMG".to_vec();
    img.extend_from_slice(&8u32.to_le_bytes());
    img.extend_from_slice(&0u32.to_le_bytes());
    img.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    img.extend_from_slice(&crc32(payload).to_le_bytes());
    img.extend_from_slice(&0u32.to_le_bytes());
    img.extend_from_slice(payload);
    std::fs::write(dir.path().join("found.img"), img).unwrap();
    std::fs::copy(data.join("nir_huge_dataset.nir"), dir.path().join("found.nir")).unwrap();
    for (args, want) in [("inspect found.img", "image"), ("compile found.nir --arch loihi -o x.img", "claims")] {
        let script = format!("ulimit -v 1048576; exec {} {args}", env!("CARGO_BIN_EXE_nerve"));
        let out = Command::new("sh").current_dir(dir.path()).args(["-c", &script]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "nerve {args}: {err}");
        assert!(err.contains(want) && !err.contains("panicked") && !err.contains("memory allocation"), "nerve {args}: {err}");
    }
}

/// The up-front memory check counts the process's address-space limit:
/// under `ulimit -v` of 2 GB an all-to-all of 20,000 × 20,000 passed the
/// check against the machine's free memory and died in an allocation.
#[test]
fn the_memory_check_counts_the_address_space_limit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a2a.json"),
        r#"{"dt_ms": 1.0, "populations": [{"name": "a", "size": 20000, "model": "input"}, {"name": "b", "size": 20000, "model": "lif"}],
            "projections": [{"pre": "a", "post": "b", "connector": {"type": "all_to_all"}, "weight": 0.5}]}"#,
    )
    .unwrap();
    let script = format!("ulimit -v 2000000 && exec '{}' compile a2a.json --arch spinnaker -o x.img", env!("CARGO_BIN_EXE_nerve"));
    let out = Command::new("bash").current_dir(dir.path()).args(["-c", &script]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("400000000 synapses") && err.contains("address-space limit (ulimit -v)"), "{err}");
    assert!(!dir.path().join("x.img").exists());
}

/// A UTF-8 byte-order mark (editors on Windows write one) is no error in a
/// network or a spike file: both were refused at "line 1, column 1".
#[test]
fn a_byte_order_mark_is_no_error() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let bom = |name: &str, text: &[u8]| std::fs::write(dir.path().join(name), [b"\xEF\xBB\xBF".as_slice(), text].concat()).unwrap();
    bom("bom.json", &std::fs::read(dir.path().join("good.json")).unwrap());
    bom("bom.csv", b"population,neuron,time\nsrc,0,1\nsrc,1,2\n");
    for args in ["compile bom.json --arch spinnaker -o b.img", "run b.img --steps 5 --input bom.csv --record s.csv"] {
        let out = Command::new(env!("CARGO_BIN_EXE_nerve")).current_dir(dir.path()).args(args.split(' ')).output().unwrap();
        assert!(out.status.success(), "{args}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
