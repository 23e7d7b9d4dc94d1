//! The Cranelift JIT: each kernel compiled to native code that runs four
//! neurons per iteration with i32x4 vectors, one compiled function per kernel
//! and set of uniform parameter values (known values fold, e.g. `shv` amounts
//! become immediate shifts; the values themselves are read in the loop from
//! the core's aligned copies, which keeps them out of the registers). On
//! profiles without idle updates the function skips the activity test. It
//! must agree bit for bit with the interpreter; the
//! differential tests in tests/jit_vs_interp.rs check that on random kernels
//! and edge values.
//!
//! Operations without a 32-bit vector form are built from ones that have
//! it: multiply–shift widens to i64x2 pairs and narrows back by shuffling the
//! low halves (a factor known when compiling is widened once, on hosts whose
//! i64x2 multiply is one instruction); saturating add/sub detect overflow from sign bits; `shv` by a
//! constant becomes a shift by an immediate, by a variable a per-lane scalar
//! sequence.

use std::collections::BTreeMap;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, AbiParam, ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module};
use nerve_isa::instr::NUM_REGS;
use nerve_isa::kernel::Kernel;
use nerve_isa::opcode::Opcode;

use crate::error::{EmuError, Result};
use crate::kernel::{avx2, avx512, KernelRunner};
use crate::kernel::{padded, KernelData, Param, Rounding, LANES};
use crate::machine::{Machine, Run};

/// `fn(state, params, input, port_stride, flags, groups)`: see `KernelRunner::run` below.
type KernelFn = unsafe extern "C" fn(*const *mut i32, *const *const i32, *mut i32, i64, *mut u8, i64);

/// Compiled kernels for every core of a machine.
pub struct Jit {
    /// Keeps the code alive; its memory is freed when the Jit is dropped.
    module: Option<JITModule>,
    /// Per core (machine order): the function, or None for schedule cores.
    per_core: Vec<Option<KernelFn>>,
    /// Learning programs, by the machine's kernel index.
    programs: BTreeMap<usize, KernelFn>,
    /// Per core, per parameter slot: four copies of the uniform value the
    /// core's function was compiled for (zeros for per-neuron slots). The
    /// compiled code reads slot s at the first uniform slot's table pointer
    /// + 16·(s − first), so this is one contiguous array per core. Built once.
    uniform: Vec<Vec<Lanes>>,
    /// Per core: its function is a native backend's (avx512, avx2) and was compiled with
    /// every parameter uniform, so it reads no parameter table (`Emit`
    /// reads the table only at an `ldp` of a per-neuron slot): `run` builds
    /// none (CUBA's cores: nine parameters a call, each a match and a
    /// store, in a call of ~15 ns).
    no_params: Vec<bool>,
    /// Distinct compiled functions.
    pub functions: usize,
    /// The code generator that compiled the neuron kernels.
    pub backend: Backend,
    /// The native backend's code (executable, immutable), if one compiled the kernels.
    _native: Option<memmap2::Mmap>,
}

/// Which code generator compiles the neuron kernels (learning programs are
/// always Cranelift's). Every backend agrees bit for bit with the interpreter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// AVX-512 where the host has it (`avx512::available`), else AVX2
    /// (`avx2::available`), else Cranelift.
    #[default]
    Auto,
    /// Cranelift, four neurons per iteration in 128-bit vectors: every x86-64 and aarch64 host.
    Cranelift,
    /// Sixteen neurons per iteration in 512-bit vectors (`avx512`); an error on hosts without AVX-512.
    Avx512,
    /// Eight neurons per iteration in 256-bit vectors (`avx2`); an error on hosts without AVX2.
    Avx2,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Cranelift => "cranelift",
            Backend::Avx512 => "avx512",
            Backend::Avx2 => "avx2",
        }
    }

    /// Assembled here (`avx512`, `avx2`), not by Cranelift.
    fn native(self) -> bool {
        matches!(self, Backend::Avx512 | Backend::Avx2)
    }

    /// The backend `self` stands for on this host.
    pub fn resolve(self) -> Result<Backend> {
        match self {
            Backend::Auto if crate::kernel::avx512::available() => Ok(Backend::Avx512),
            Backend::Auto if crate::kernel::avx2::available() => Ok(Backend::Avx2),
            Backend::Auto => Ok(Backend::Cranelift),
            Backend::Avx512 if !crate::kernel::avx512::available() => Err(EmuError::Jit {
                kernel: "-".into(),
                reason: "the avx512 backend needs a CPU with AVX-512 F, DQ, BW and VL and BMI2, which this host lacks (use the cranelift backend)".into(),
            }),
            Backend::Avx2 if !crate::kernel::avx2::available() => Err(EmuError::Jit {
                kernel: "-".into(),
                reason: "the avx2 backend needs a CPU with AVX2 and BMI2, which this host lacks (use the cranelift backend)".into(),
            }),
            b => Ok(b),
        }
    }
}

// SAFETY: the function pointers refer to finalized, immutable machine code
// owned by `module`, which lives as long as `Jit`; calling them from several
// threads at once is fine (they keep no state of their own).
#[allow(unsafe_code)]
unsafe impl Sync for Jit {}
#[allow(unsafe_code)]
unsafe impl Send for Jit {}

impl Drop for Jit {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: the only pointers into this module's code are the
            // function pointers in `per_core` and `programs`, private to this
            // Jit and dropped with it; every call borrows the Jit, so none is
            // running while it is dropped, and none can follow.
            #[allow(unsafe_code)]
            unsafe {
                m.free_memory()
            };
        }
    }
}

const V: Type = types::I32X4;

/// Four copies of a uniform value, aligned as an i32x4 so that the compiled
/// code may use them as an aligned memory operand.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
struct Lanes([i32; LANES]);

/// A core's kernel, its uniform parameter values (`None`: per neuron), and its kernel id.
type CoreKernel<'a> = (&'a Kernel, Vec<Option<i32>>, usize);

fn jit_err(k: &Kernel, e: impl std::fmt::Display) -> EmuError {
    EmuError::Jit { kernel: k.name.clone(), reason: e.to_string() }
}

impl Jit {
    /// Compiles every core's kernel with the best backend for this host.
    pub fn compile(m: &Machine) -> Result<Jit> {
        Jit::compile_with(m, Backend::Auto)
    }

    /// Compiles every core's kernel with `backend`.
    pub fn compile_with(m: &Machine, backend: Backend) -> Result<Jit> {
        let cores: Vec<Option<CoreKernel>> = m
            .cores
            .iter()
            .map(|c| match &c.run {
                Run::Kernel { kernel, data } => Some((&m.kernels[*kernel], uniform_values(data), *kernel)),
                Run::Schedule { .. } => None,
            })
            .collect();
        let programs: Vec<usize> = m.rules.iter().map(|r| r.program().index()).collect();
        Jit::compile_cores(&cores, m.arch.core.idle_updates, &programs.iter().map(|&k| (k, &m.kernels[k])).collect::<Vec<_>>(), backend)
    }

    /// Compiles one kernel for one set of parameters (tests and benchmarks).
    pub fn for_kernel(k: &Kernel, d: &KernelData) -> Result<Jit> {
        Jit::for_kernel_with(k, d, Backend::Auto)
    }

    /// As `for_kernel`, with `backend`.
    pub fn for_kernel_with(k: &Kernel, d: &KernelData, backend: Backend) -> Result<Jit> {
        Jit::compile_cores(&[Some((k, uniform_values(d), 0))], true, &[], backend)
    }

    /// As `for_kernel`, for a profile without idle updates: the activity
    /// bits are left 0 (the engine counts every update as active).
    pub fn for_kernel_without_activity(k: &Kernel, d: &KernelData) -> Result<Jit> {
        Jit::for_kernel_without_activity_with(k, d, Backend::Auto)
    }

    /// As `for_kernel_without_activity`, with `backend`.
    pub fn for_kernel_without_activity_with(k: &Kernel, d: &KernelData, backend: Backend) -> Result<Jit> {
        Jit::compile_cores(&[Some((k, uniform_values(d), 0))], false, &[], backend)
    }

    /// A learning program alone (tests): run it with `run_program(0, …)`.
    pub fn for_program(k: &Kernel) -> Result<Jit> {
        Jit::compile_cores(&[], false, &[(0, k)], Backend::Cranelift)
    }

    /// `cores[i]`: the kernel of core i, its uniform parameter values, and a
    /// kernel id used to share compiled code between cores. `activity`: the
    /// functions compute the activity bits (profiles with idle updates).
    fn compile_cores(cores: &[Option<CoreKernel>], activity: bool, programs: &[(usize, &Kernel)], backend: Backend) -> Result<Jit> {
        let backend = backend.resolve()?;
        let mut flags = settings::builder();
        let set = |f: &mut settings::Builder, k: &str, v: &str| f.set(k, v).map_err(|e| EmuError::Jit { kernel: "-".into(), reason: e.to_string() });
        set(&mut flags, "opt_level", "speed")?;
        set(&mut flags, "use_colocated_libcalls", "false")?;
        set(&mut flags, "is_pic", "false")?;
        let isa = cranelift_native::builder()
            .map_err(|e| EmuError::Jit { kernel: "-".into(), reason: e.to_string() })?
            .finish(settings::Flags::new(flags))
            .map_err(|e| EmuError::Jit { kernel: "-".into(), reason: e.to_string() })?;
        let mut module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));
        let mut cache: BTreeMap<(usize, Vec<Option<i32>>), cranelift_module::FuncId> = BTreeMap::new();
        let mut ids = Vec::with_capacity(cores.len());
        let mut fctx = FunctionBuilderContext::new();
        // The native backend's functions: one buffer, each function's offset.
        let mut native_code: Vec<u8> = Vec::new();
        let mut native_at: BTreeMap<(usize, Vec<Option<i32>>), usize> = BTreeMap::new();
        let mut native_ids: Vec<Option<usize>> = Vec::with_capacity(cores.len());
        for c in cores {
            let Some((k, consts, kid)) = c else {
                ids.push(None);
                native_ids.push(None);
                continue;
            };
            if consts.len() != k.params.len() {
                // Both backends read a slot's value or table entry by its index.
                return Err(jit_err(k, format!("{} parameter value(s) given for the kernel's {} parameter slot(s)", consts.len(), k.params.len())));
            }
            let key = (*kid, consts.clone());
            if backend.native() {
                let at = match native_at.get(&key) {
                    Some(at) => *at,
                    None => {
                        let (code, entry) = if backend == Backend::Avx512 {
                            avx512::assemble(k, consts, activity).map(|c| (c, 0))
                        } else {
                            avx2::assemble(k, consts, activity)
                        }
                        .map_err(|e| jit_err(k, e))?;
                        if let Some(path) = std::env::var_os("NERVE_JIT_DUMP_NATIVE") {
                            // For `objdump -b binary -m i386:x86-64 -D`: the last function compiled
                            // (avx2: its constants first, the code at 32 × their count).
                            let _ = std::fs::write(path, &code);
                        }
                        // Each function (with its constants, for avx2) starts on a cache line.
                        native_code.resize(native_code.len().div_ceil(64) * 64, 0xcc);
                        let at = native_code.len() + entry;
                        native_code.extend_from_slice(&code);
                        native_at.insert(key, at);
                        at
                    }
                };
                native_ids.push(Some(at));
                ids.push(None);
                continue;
            }
            native_ids.push(None);
            let id = match cache.get(&key) {
                Some(id) => *id,
                None => {
                    let id = build(&mut module, &mut fctx, k, consts, activity, cache.len())?;
                    cache.insert(key, id);
                    id
                }
            };
            ids.push(Some(id));
        }
        // Learning programs: no parameters, no activity bits.
        let mut program_ids: Vec<(usize, cranelift_module::FuncId)> = Vec::new();
        for &(kid, k) in programs {
            if program_ids.iter().any(|(x, _)| *x == kid) {
                continue;
            }
            let id = build(&mut module, &mut fctx, k, &[], false, cache.len() + program_ids.len())?;
            program_ids.push((kid, id));
        }
        module.finalize_definitions().map_err(|e| EmuError::Jit { kernel: "-".into(), reason: e.to_string() })?;
        let entry = |id: cranelift_module::FuncId| -> KernelFn {
            let p = module.get_finalized_function(id);
            // SAFETY: `p` is the entry of a function we just defined with
            // exactly the `KernelFn` signature (six arguments: four
            // pointers and two i64, system-V ABI, no return value).
            #[allow(unsafe_code)]
            unsafe {
                std::mem::transmute::<*const u8, KernelFn>(p)
            }
        };
        let native = if native_code.is_empty() {
            None
        } else {
            let io = |e: std::io::Error| EmuError::Jit { kernel: "-".into(), reason: format!("executable memory for the {} backend: {e}", backend.name()) };
            let mut buf = memmap2::MmapMut::map_anon(native_code.len()).map_err(io)?;
            buf.copy_from_slice(&native_code);
            Some(buf.make_exec().map_err(io)?)
        };
        let per_core = ids
            .into_iter()
            .zip(native_ids)
            .map(|(id, at)| match (id, at, &native) {
                (Some(id), _, _) => Some(entry(id)),
                (None, Some(at), Some(code)) => {
                    // SAFETY: `code` holds, at offset `at`, a function the
                    // native backend assembled with exactly the `KernelFn`
                    // signature and contract (see `avx512`, `avx2`), position-
                    // independent, now mapped executable and never written
                    // again; the mapping lives in `Jit::_native` as long as
                    // the pointer in `per_core`. `available()` held when
                    // `backend.resolve()` chose it, so the host runs it.
                    #[allow(unsafe_code)]
                    unsafe {
                        Some(std::mem::transmute::<*const u8, KernelFn>(code.as_ptr().add(at)))
                    }
                }
                _ => None,
            })
            .collect();
        let programs = program_ids.into_iter().map(|(kid, id)| (kid, entry(id))).collect();
        let uniform = cores
            .iter()
            .map(|c| match c {
                Some((_, consts, _)) => consts.iter().map(|v| Lanes([v.unwrap_or(0); LANES])).collect(),
                None => Vec::new(),
            })
            .collect();
        // (Values for another number of slots than the kernel's were refused above.)
        let no_params = cores.iter().map(|c| backend.native() && c.as_ref().is_some_and(|(_, consts, _)| consts.iter().all(Option::is_some))).collect();
        let functions = cache.len() + native_at.len();
        Ok(Jit { module: Some(module), per_core, programs, uniform, no_params, functions, backend, _native: native })
    }
}

impl Jit {
    /// Calls core `core`'s function with pointer tables of `S` state and `P`
    /// parameter entries (at least the kernel's counts; checked by indexing).
    #[allow(clippy::too_many_arguments)]
    fn call<const S: usize, const P: usize>(
        &self,
        f: KernelFn,
        ub: &[Lanes],
        d: &mut KernelData,
        input: &mut [i32],
        stride: usize,
        flags: &mut [u8],
        np: usize,
    ) {
        // The tables, checking each array's length on the way (one pass).
        let mut sp = [std::ptr::null_mut::<i32>(); S];
        for (i, s) in d.state.iter_mut().enumerate() {
            assert!(s.len() >= np);
            sp[i] = s.as_mut_ptr();
        }
        assert!(ub.len() == d.params.len());
        let mut pp = [std::ptr::null::<i32>(); P];
        for (i, p) in d.params.iter().enumerate() {
            pp[i] = match p {
                Param::PerNeuron(v) => {
                    assert!(v.len() >= np);
                    v.as_ptr()
                }
                Param::Uniform(x) => {
                    debug_assert_eq!(ub[i].0[0], *x, "a uniform parameter changed after compilation");
                    ub[i].0.as_ptr()
                }
            };
        }
        // SAFETY: `f` was compiled for this kernel and these uniform
        // parameters (a core's kernel, or a learning program, which has no
        // parameters and an empty `ub`). Every state array and per-neuron
        // parameter array hold at least `np` i32s, the flags array `np / 4`
        // bytes, and `input` holds `k.inputs.len()` ports of `stride == np`
        // i32s, and the tables hold exactly the kernel's slots (the array
        // lengths asserted above, the rest by `run` and `run_program`, the
        // only callers); the
        // code touches exactly lanes 0..np of those, through the pointer
        // tables built just above from live, exclusively borrowed data, and
        // reads the uniform values: slot s's 16-byte aligned `Lanes` at the
        // first uniform slot's pointer + 16 × (s − first), which is `ub[s]`
        // because the table's uniform pointers are `ub[i]` for every uniform
        // slot i and `ub` is one contiguous `Vec<Lanes>` of all the core's
        // slots (asserted to have the kernel's length above).
        #[allow(unsafe_code)]
        unsafe {
            f(sp.as_ptr(), pp.as_ptr(), input.as_mut_ptr(), stride as i64, flags.as_mut_ptr(), (np / LANES) as i64)
        }
    }
}

impl KernelRunner for Jit {
    fn run(&self, core: usize, k: &Kernel, d: &mut KernelData, input: &mut [i32], stride: usize, flags: &mut [u8]) {
        // invariant: Jit::compile sets per_core[i] for every Run::Kernel core, and the engine calls `run` only for those
        let f = self.per_core[core].expect("a kernel core has a compiled kernel");
        let np = padded(d.n);
        // The compiled code reads and writes `np` lanes of every array it
        // touches; these checks make that true (failing them is a bug).
        // (`call` checks every state and per-neuron parameter array's length.)
        assert!(stride == np && flags.len() >= np / LANES);
        assert!(input.len() >= k.inputs.len() * stride);
        // The compiled code reads exactly the kernel's slots from the tables.
        assert!(d.state.len() == k.state.len() && d.params.len() == k.params.len());
        // Pointer tables on the stack, as small as the kernel allows: this runs
        // once per core per timestep, and zeroing the largest tables (768
        // bytes) every time was a measurable share of short kernels' runs.
        let (ns, np_) = (d.state.len(), d.params.len());
        let ub = &self.uniform[core];
        if ns <= 8 && self.no_params[core] {
            // The data has the slots the function was compiled for.
            assert!(ub.len() == np_);
            let mut sp = [std::ptr::null_mut::<i32>(); 8];
            for (i, s) in d.state.iter_mut().enumerate() {
                assert!(s.len() >= np);
                sp[i] = s.as_mut_ptr();
            }
            debug_assert!(
                d.params.iter().zip(ub).all(|(p, u)| matches!(p, Param::Uniform(x) if *x == u.0[0])),
                "a uniform parameter changed after compilation"
            );
            // SAFETY: `f` is a native backend's function for this kernel,
            // compiled with every parameter slot uniform (`no_params`), so
            // it reads no entry of the parameter table (its `ldp`s are
            // constants; `compile_cores` took a value for every one of the
            // kernel's slots, as many as the data's: asserted above)
            // and gets none. Every state array holds at least
            // `np` i32s (asserted just above), the flags `np / 4` bytes and
            // `input` the kernel's ports × `stride == np` i32s (asserted at
            // the top); the state table holds the kernel's slots (`ns`,
            // asserted equal to the kernel's), from live, exclusively
            // borrowed data. The code touches lanes 0..np of those only.
            #[allow(unsafe_code)]
            unsafe {
                f(sp.as_ptr(), std::ptr::null(), input.as_mut_ptr(), stride as i64, flags.as_mut_ptr(), (np / LANES) as i64)
            }
        } else if ns <= 8 && np_ <= 16 {
            self.call::<8, 16>(f, ub, d, input, stride, flags, np);
        } else {
            self.call::<{ nerve_isa::instr::MAX_STATE_SLOTS }, { nerve_isa::instr::MAX_PARAM_SLOTS }>(f, ub, d, input, stride, flags, np);
        }
    }

    fn run_program(&self, kernel: usize, k: &Kernel, d: &mut KernelData, input: &mut [i32], stride: usize, flags: &mut [u8]) {
        // invariant: Jit::compile compiles every rule's program, and the learning engine runs only rules' programs
        let f = *self.programs.get(&kernel).expect("every learning program is compiled");
        let np = padded(d.n);
        assert!(stride == np && flags.len() >= np / LANES);
        assert!(input.len() >= k.inputs.len() * stride);
        assert!(d.state.len() == k.state.len() && d.params.is_empty() && k.params.is_empty());
        self.call::<8, 16>(f, &[], d, input, stride, flags, np);
    }
}

fn uniform_values(d: &KernelData) -> Vec<Option<i32>> {
    d.params
        .iter()
        .map(|p| match p {
            Param::Uniform(v) => Some(*v),
            Param::PerNeuron(_) => None,
        })
        .collect()
}

/// What is known about a register at compile time (to fold `shv` amounts).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Known {
    Const(i32),
    Unknown,
}

fn build(
    module: &mut JITModule,
    fctx: &mut FunctionBuilderContext,
    k: &Kernel,
    consts: &[Option<i32>],
    activity: bool,
    serial: usize,
) -> Result<cranelift_module::FuncId> {
    let tcfg = module.target_config();
    // The JIT targets the host (cranelift_native), so the host decides.
    let blendv = cfg!(target_arch = "x86_64");
    // With AVX-512 (DQ, VL) an i64x2 multiply is one instruction
    // (`vpmullq`): a multiply–shift by a known value then multiplies by that
    // value already widened, instead of widening it with every use.
    let isa_flags = module.isa().isa_flags();
    let has = |name: &str| isa_flags.iter().any(|f| f.name == name && f.as_bool() == Some(true));
    let wide_mul = has("has_avx512dq") && has("has_avx512vl");
    let ptr = tcfg.pointer_type();
    let mut ctx = module.make_context();
    let sig = &mut ctx.func.signature;
    for _ in 0..3 {
        sig.params.push(AbiParam::new(ptr));
    }
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(ptr));
    sig.params.push(AbiParam::new(types::I64));
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, fctx);
        let entry = b.create_block();
        let header = b.create_block();
        let body = b.create_block();
        let exit = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let p = b.block_params(entry).to_vec();
        let (state_tab, param_tab, input, port_stride, flags_ptr, groups) = (p[0], p[1], p[2], p[3], p[4], p[5]);
        let mf = MemFlagsData::new().with_notrap();
        // Array base pointers, loaded once.
        let state_base: Vec<Value> = (0..k.state.len()).map(|i| b.ins().load(ptr, mf, state_tab, (i * 8) as i32)).collect();
        // Uniform parameters are read inside the loop, where each is used, from
        // one base pointer: loads there fold into the instruction that uses
        // them (a memory operand), where values read once before the loop
        // stayed live across it and were spilled and reloaded anyway. Their
        // address depends on the loop index (through a zero), so that the
        // optimiser does not hoist these (pure) loads again. The copies of a core's uniform
        // values are one array (`Jit::uniform`), 16 bytes per slot, so every
        // slot's address is the first uniform slot's plus a constant.
        let first_uniform = consts.iter().position(|c| c.is_some());
        // Base pointers of per-neuron parameters, and the uniform values' one.
        let param_base: Vec<Option<Value>> =
            (0..k.params.len()).map(|i| (consts[i].is_none() || Some(i) == first_uniform).then(|| b.ins().load(ptr, mf, param_tab, (i * 8) as i32))).collect();
        let uniform_base: Option<Value> = first_uniform.and_then(|s| param_base[s]);
        // invariant: uniform_at is called only for slots with consts[slot] Some, so first_uniform is Some
        let uniform_at = |slot: usize| -> i32 { ((slot - first_uniform.expect("uniform_at is called for uniform slots only")) * 16) as i32 };
        let stride_bytes = b.ins().imul_imm_s(port_stride, 4);
        let input_base: Vec<Value> = (0..k.inputs.len())
            .map(|i| {
                let o = b.ins().imul_imm_s(stride_bytes, i as i64);
                b.ins().iadd(input, o)
            })
            .collect();
        let zero64 = b.ins().iconst(types::I64, 0);
        b.ins().jump(header, &[zero64.into()]);

        b.append_block_param(header, types::I64);
        b.switch_to_block(header);
        let gi = b.block_params(header)[0];
        let done = b.ins().icmp(IntCC::SignedGreaterThanOrEqual, gi, groups);
        b.ins().brif(done, exit, &[], body, &[]);

        b.switch_to_block(body);
        let off = b.ins().imul_imm_s(gi, (LANES * 4) as i64);
        // Zero (the group index is never negative), but not to the optimiser:
        // the uniform values' address in the loop is computed from it, so that
        // their (pure) loads stay in the loop, one at each use, and fold into
        // the instruction using them.
        let loop_zero = b.ins().ushr_imm_u(gi, 63);
        let uniform_here = uniform_base.map(|u| b.ins().iadd(u, loop_zero));
        let pure = MemFlagsData::new().with_notrap().with_readonly().with_can_move().with_aligned();
        let regs: Vec<Variable> = (0..NUM_REGS).map(|_| b.declare_var(V)).collect();
        let z = vsplat(&mut b, 0);
        for &r in &regs {
            b.def_var(r, z);
        }
        let mut known = [Known::Const(0); NUM_REGS];
        // For registers holding 0/1 (compare results and logic on them): the
        // same truth as a lane mask (−1/0), so selects and spikes need no
        // compare against zero.
        let mut masks: [Option<Value>; NUM_REGS] = [Some(z); NUM_REGS];
        // Each port's input, loaded once per group.
        let mut inputs: Vec<Option<Value>> = vec![None; k.inputs.len()];
        // `None` until the first `spike`: no OR with a zero vector (Cranelift
        // does not fold `bor` with a splat zero).
        let mut spike: Option<Value> = None;
        let one = vsplat(&mut b, 1);
        // The activity rule compares each written state slot before and after
        // the update. Where the kernel itself loads a slot before writing it,
        // and stores it last, those values are used: extra loads of what was
        // just stored cost a third of the kernel's time.
        let written = k.written_state();
        let n_slots = state_base.len();
        let mut first_is_load = vec![false; n_slots];
        let mut seen = vec![false; n_slots];
        for ins in &k.code {
            let s = ins.aux as usize;
            if s >= n_slots {
                continue;
            }
            if ins.op == Opcode::Lds && !seen[s] {
                seen[s] = true;
                first_is_load[s] = true;
            } else if ins.op.writes_state() {
                seen[s] = true;
            }
        }
        // The last instruction writing each slot: there the slot's change is
        // known and joins the activity test. (Cranelift still computes these
        // pure values where the flag store needs them; forcing them earlier
        // through a block parameter measured worse.)
        let mut last_write: Vec<Option<usize>> = vec![None; n_slots];
        for (pc, ins) in k.code.iter().enumerate() {
            if ins.op.writes_state() && (ins.aux as usize) < n_slots {
                last_write[ins.aux as usize] = Some(pc);
            }
        }
        // Lanes with input on any port or a changed written slot (OR of them).
        let mut any: Option<Value> = None;
        let or_into = |b: &mut FunctionBuilder, any: &mut Option<Value>, x: Value| {
            *any = Some(match *any {
                Some(a) => b.ins().bor(a, x),
                None => x,
            });
        };
        // A written slot's change (old XOR new) joins the activity test.
        let join_change = |b: &mut FunctionBuilder, any: &mut Option<Value>, old: Option<Value>, new: Value| {
            // invariant: with activity bits, each written slot's old value was loaded before the loop or by its first Lds
            // (first_is_load); without them last_write is cleared, so this is never called
            let d = b.ins().bxor(old.expect("every written slot's old value is known"), new);
            or_into(b, any, d);
        };
        let mut before: Vec<Option<Value>> = vec![None; n_slots];
        if !activity {
            // No activity bits: nothing joins the test, no value is read for it.
            last_write.iter_mut().for_each(|w| *w = None);
        }
        for &s in &written {
            if activity && !first_is_load[s as usize] {
                let addr = b.ins().iadd(state_base[s as usize], off);
                before[s as usize] = Some(b.ins().load(V, mf, addr, 0));
            }
        }
        for (pc, ins) in k.code.iter().enumerate() {
            let rd = ins.rd.index();
            let a = b.use_var(regs[ins.ra.index()]);
            let bb = b.use_var(regs[ins.rb.index()]);
            let c = b.use_var(regs[ins.rc.index()]);
            let aux = ins.aux;
            let mut kn = Known::Unknown;
            let (ma, mb, mc) = (masks[ins.ra.index()], masks[ins.rb.index()], masks[ins.rc.index()]);
            let mut mask: Option<Value> = None;
            let v: Option<Value> = match ins.op {
                Opcode::Movi => {
                    kn = Known::Const(ins.imm);
                    mask = match ins.imm {
                        0 => Some(z),
                        1 => Some(vsplat(&mut b, -1)),
                        _ => None,
                    };
                    Some(vsplat(&mut b, ins.imm))
                }
                Opcode::Mov => {
                    kn = known[ins.ra.index()];
                    mask = ma;
                    Some(a)
                }
                Opcode::Lds => {
                    let addr = b.ins().iadd(state_base[aux as usize], off);
                    let v = b.ins().load(V, mf, addr, 0);
                    if before[aux as usize].is_none() {
                        before[aux as usize] = Some(v);
                    }
                    Some(v)
                }
                Opcode::Sts => {
                    let addr = b.ins().iadd(state_base[aux as usize], off);
                    b.ins().store(mf, a, addr, 0);
                    if last_write[aux as usize] == Some(pc) {
                        join_change(&mut b, &mut any, before[aux as usize], a);
                    }
                    None
                }
                Opcode::Ldp => match consts[aux as usize] {
                    Some(x) => {
                        kn = Known::Const(x);
                        // invariant: consts[aux] is Some here, so first_uniform is Some, param_base[first_uniform] is loaded and uniform_here is Some
                        let base = uniform_here.expect("a uniform slot has the base");
                        Some(b.ins().load(V, pure, base, uniform_at(aux as usize)))
                    }
                    None => {
                        // invariant: consts[aux] is None here, and param_base is loaded for every slot whose value is not uniform
                        let addr = b.ins().iadd(param_base[aux as usize].expect("a per-neuron slot has its base"), off);
                        Some(b.ins().load(V, mf, addr, 0))
                    }
                },
                Opcode::Ldin => Some(match inputs[aux as usize] {
                    Some(x) => x,
                    None => {
                        let addr = b.ins().iadd(input_base[aux as usize], off);
                        let x = b.ins().load(V, mf, addr, 0);
                        inputs[aux as usize] = Some(x);
                        or_into(&mut b, &mut any, x);
                        x
                    }
                }),
                Opcode::Add => Some(b.ins().iadd(a, bb)),
                Opcode::Sub => Some(b.ins().isub(a, bb)),
                Opcode::Addi => {
                    let i = vsplat(&mut b, ins.imm);
                    Some(b.ins().iadd(a, i))
                }
                Opcode::Adds => {
                    let s = b.ins().iadd(a, bb);
                    let x1 = b.ins().bxor(a, s);
                    let x2 = b.ins().bxor(bb, s);
                    let ov = b.ins().band(x1, x2);
                    Some(saturate(&mut b, ov, a, s))
                }
                Opcode::Subs => {
                    let s = b.ins().isub(a, bb);
                    let x1 = b.ins().bxor(a, bb);
                    let x2 = b.ins().bxor(a, s);
                    let ov = b.ins().band(x1, x2);
                    Some(saturate(&mut b, ov, a, s))
                }
                Opcode::Neg => Some(b.ins().ineg(a)),
                Opcode::Abs => Some(b.ins().iabs(a)),
                Opcode::Mul => Some(b.ins().imul(a, bb)),
                Opcode::Mulsh | Opcode::Mulshr | Opcode::Mulshz => {
                    let rounding = Rounding::of(ins.op);
                    // The product is symmetric: either factor may be the known one.
                    let (x, y, known_y) = match (known[ins.ra.index()], known[ins.rb.index()]) {
                        (_, Known::Const(c)) if wide_mul => (a, bb, Some(c)),
                        (Known::Const(c), _) if wide_mul => (bb, a, Some(c)),
                        _ => (a, bb, None),
                    };
                    Some(mul_shift(&mut b, rounding, x, y, known_y, aux))
                }
                Opcode::Shl => Some(b.ins().ishl_imm_u(a, aux as i64)),
                Opcode::Shr => Some(b.ins().sshr_imm_u(a, aux as i64)),
                Opcode::Shv => Some(match known[ins.rb.index()] {
                    Known::Const(s) if s >= 32 => z,
                    Known::Const(s) if s >= 0 => b.ins().ishl_imm_u(a, s as i64),
                    Known::Const(s) if s >= -31 => b.ins().sshr_imm_u(a, (-s) as i64),
                    Known::Const(_) => b.ins().sshr_imm_u(a, 31),
                    Known::Unknown => shv_lanes(&mut b, a, bb),
                }),
                Opcode::Wrap => {
                    let s = 32 - aux as i64;
                    let l = b.ins().ishl_imm_u(a, s);
                    Some(b.ins().sshr_imm_u(l, s))
                }
                Opcode::Sat => {
                    let hi = ((1i64 << (aux - 1)) - 1) as i32;
                    let lo = (-(1i64 << (aux - 1))) as i32;
                    let vl = vsplat(&mut b, lo);
                    let vh = vsplat(&mut b, hi);
                    let m = b.ins().smax(a, vl);
                    Some(b.ins().smin(m, vh))
                }
                Opcode::Min => Some(b.ins().smin(a, bb)),
                Opcode::Max => Some(b.ins().smax(a, bb)),
                Opcode::And => {
                    if let (Some(x), Some(y)) = (ma, mb) {
                        mask = Some(b.ins().band(x, y));
                    }
                    Some(b.ins().band(a, bb))
                }
                Opcode::Or => {
                    if let (Some(x), Some(y)) = (ma, mb) {
                        mask = Some(b.ins().bor(x, y));
                    }
                    Some(b.ins().bor(a, bb))
                }
                Opcode::Xor => {
                    if let (Some(x), Some(y)) = (ma, mb) {
                        mask = Some(b.ins().bxor(x, y));
                    }
                    Some(b.ins().bxor(a, bb))
                }
                // `x == 0` of a 0/1 register is the complement of its mask.
                Opcode::Cmpeq if is_zero_and_mask(known[ins.rb.index()], ma) || is_zero_and_mask(known[ins.ra.index()], mb) => {
                    let m = if ma.is_some() && known[ins.rb.index()] == Known::Const(0) { ma } else { mb };
                    // invariant: the guard holds only when ma is Some with rb known 0 (then m is ma) or mb is Some with ra known 0 (then m is mb)
                    let m = b.ins().bnot(m.expect("the match guard makes the chosen mask Some"));
                    mask = Some(m);
                    Some(b.ins().band(m, one))
                }
                Opcode::Cmplt => Some(compare(&mut b, IntCC::SignedLessThan, a, bb, one, &mut mask)),
                Opcode::Cmple => Some(compare(&mut b, IntCC::SignedLessThanOrEqual, a, bb, one, &mut mask)),
                Opcode::Cmpeq => Some(compare(&mut b, IntCC::Equal, a, bb, one, &mut mask)),
                Opcode::Cmpltu => Some(compare(&mut b, IntCC::UnsignedLessThan, a, bb, one, &mut mask)),
                Opcode::Sel => {
                    let m = match mc {
                        Some(m) => m,
                        None => b.ins().icmp(IntCC::NotEqual, c, z),
                    };
                    if let (Some(x), Some(y)) = (ma, mb) {
                        mask = Some(select_lanes(&mut b, blendv, m, x, y));
                    }
                    Some(select_lanes(&mut b, blendv, m, a, bb))
                }
                Opcode::Rand => {
                    let addr = b.ins().iadd(state_base[aux as usize], off);
                    let x0 = b.ins().load(V, mf, addr, 0);
                    let t = b.ins().ishl_imm_u(x0, 13);
                    let x1 = b.ins().bxor(x0, t);
                    let t = b.ins().ushr_imm_u(x1, 17);
                    let x2 = b.ins().bxor(x1, t);
                    let t = b.ins().ishl_imm_u(x2, 5);
                    let x3 = b.ins().bxor(x2, t);
                    b.ins().store(mf, x3, addr, 0);
                    if last_write[aux as usize] == Some(pc) {
                        join_change(&mut b, &mut any, before[aux as usize], x3);
                    }
                    Some(x3)
                }
                Opcode::Spike => {
                    let m = match ma {
                        Some(m) => m,
                        None => b.ins().icmp(IntCC::NotEqual, a, z),
                    };
                    spike = Some(match spike {
                        Some(s) => b.ins().bor(s, m),
                        None => m,
                    });
                    None
                }
            };
            if let Some(v) = v {
                b.def_var(regs[rd], v);
                known[rd] = kn;
                masks[rd] = mask;
            }
        }
        // Flags byte: spiked lanes in bits 0-3, active lanes (input on any port,
        // a written state slot changed, or spiked) in 4-7, or 0 there without
        // `activity`. Then the input slot is cleared for its next use.
        let spike = spike.unwrap_or(z);
        // Every written slot joined `any` at its last write (Sts and Rand are
        // the only writers); inputs the kernel never read join here.
        debug_assert!(!activity || written.iter().all(|&s| last_write[s as usize].is_some()));
        for (p, base) in input_base.iter().enumerate() {
            let addr = b.ins().iadd(*base, off);
            if activity && inputs[p].is_none() {
                let x = b.ins().load(V, mf, addr, 0);
                or_into(&mut b, &mut any, x);
            }
            b.ins().store(mf, z, addr, 0);
        }
        let sb = b.ins().vhigh_bits(types::I32, spike);
        let byte = if activity {
            let quiet = match any {
                Some(any) => b.ins().icmp(IntCC::Equal, any, z),
                None => vsplat(&mut b, -1), // nothing written, no input: every lane quiet
            };
            let qb = b.ins().vhigh_bits(types::I32, quiet);
            let ab = b.ins().bxor_imm_u(qb, 0xf);
            let ab = b.ins().bor(ab, sb);
            let ab = b.ins().ishl_imm_u(ab, 4);
            b.ins().bor(sb, ab)
        } else {
            sb
        };
        let faddr = b.ins().iadd(flags_ptr, gi);
        b.ins().istore8(mf, byte, faddr, 0);
        let next = b.ins().iadd_imm_s(gi, 1);
        b.ins().jump(header, &[next.into()]);

        b.switch_to_block(exit);
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(tcfg);
    }
    let name = format!("kernel{serial}_{}", k.name);
    let id = module.declare_function(&name, Linkage::Local, &ctx.func.signature).map_err(|e| jit_err(k, e))?;
    let dump = std::env::var_os("NERVE_JIT_DUMP").is_some();
    if dump {
        ctx.set_disasm(true);
        eprintln!("; {name} (CLIF)\n{}", ctx.func.display());
    }
    module.define_function(id, &mut ctx).map_err(|e| jit_err(k, format!("{e:?}")))?;
    if dump {
        if let Some(c) = ctx.compiled_code() {
            eprintln!("; {name}\n{}", c.vcode.as_deref().unwrap_or("(no disassembly)"));
        }
    }
    module.clear_context(&mut ctx);
    Ok(id)
}

fn vsplat(b: &mut FunctionBuilder, x: i32) -> Value {
    let s = b.ins().iconst(types::I32, x as i64);
    b.ins().splat(V, s)
}

/// `x` is known to be 0 and the other operand has a lane mask.
fn is_zero_and_mask(x: Known, other_mask: Option<Value>) -> bool {
    x == Known::Const(0) && other_mask.is_some()
}

/// Lane select by a lane mask (each lane all ones or all zeros). On x86 a
/// `blendv` (one blendvps) instead of `bitselect`, which Cranelift lowers to
/// and/andnot/or unless the mask comes straight from a compare; the two agree
/// because blendv looks only at each lane's top bit.
fn select_lanes(b: &mut FunctionBuilder, blendv: bool, m: Value, x: Value, y: Value) -> Value {
    if blendv {
        b.ins().blendv(m, x, y)
    } else {
        b.ins().bitselect(m, x, y)
    }
}

/// Where the sign bit of `ov` is set, the saturated value of the sign of `a`; else `s`.
fn saturate(b: &mut FunctionBuilder, ov: Value, a: Value, s: Value) -> Value {
    let m = b.ins().sshr_imm_u(ov, 31);
    let sign = b.ins().sshr_imm_u(a, 31);
    let maxv = vsplat(b, i32::MAX);
    let sat = b.ins().bxor(sign, maxv);
    b.ins().bitselect(m, sat, s)
}

/// A comparison as a lane mask (kept in `mask`) and as 0/1 values.
fn compare(b: &mut FunctionBuilder, cc: IntCC, a: Value, x: Value, one: Value, mask: &mut Option<Value>) -> Value {
    let m = b.ins().icmp(cc, a, x);
    *mask = Some(m);
    b.ins().band(m, one)
}

/// Multiply–shift on four lanes: exact 64-bit products (pmuldq on x86), the
/// rounding adjustment in 64 bits, then the shift without a 64-bit arithmetic
/// shift (which SSE lacks): for sh < 32 the low word of a logical 64-bit shift
/// equals the low word of the arithmetic one; for sh ≥ 32 the result is the
/// high word shifted arithmetically by sh − 32 (exact, and within 32 bits).
///
/// `known`: x's value in every lane, if known when compiling (a uniform
/// parameter or a constant): x is then one i64x2 constant for both halves.
fn mul_shift(b: &mut FunctionBuilder, rounding: Rounding, a: Value, x: Value, known: Option<i32>, sh: u8) -> Value {
    let mut halves = [a, a];
    let wide = known.map(|c| {
        let c = b.ins().iconst(types::I64, c as i64);
        b.ins().splat(types::I64X2, c)
    });
    for (h, out) in halves.iter_mut().enumerate() {
        let wa = if h == 0 { b.ins().swiden_low(a) } else { b.ins().swiden_high(a) };
        let wx = match wide {
            Some(w) => w,
            None if h == 0 => b.ins().swiden_low(x),
            None => b.ins().swiden_high(x),
        };
        let p = b.ins().imul(wa, wx);
        *out = match rounding {
            Rounding::Floor => p,
            Rounding::HalfUp => {
                let c = b.ins().iconst(types::I64, 1i64 << (sh - 1));
                let c = b.ins().splat(types::I64X2, c);
                b.ins().iadd(p, c)
            }
            // Toward zero: add 2^sh − 1 to negative products before flooring.
            Rounding::TowardZero => {
                let zero = b.ins().iconst(types::I64, 0);
                let zero = b.ins().splat(types::I64X2, zero);
                let neg = b.ins().icmp(IntCC::SignedLessThan, p, zero);
                let c = b.ins().iconst(types::I64, ((1u64 << sh) - 1) as i64);
                let c = b.ins().splat(types::I64X2, c);
                let m = b.ins().band(neg, c);
                b.ins().iadd(p, m)
            }
        };
    }
    if sh < 32 {
        let (lo, hi) = if sh == 0 { (halves[0], halves[1]) } else { (b.ins().ushr_imm_u(halves[0], sh as i64), b.ins().ushr_imm_u(halves[1], sh as i64)) };
        words(b, lo, hi, 0)
    } else {
        let w = words(b, halves[0], halves[1], 1);
        if sh == 32 {
            w // the high words are the result
        } else {
            b.ins().sshr_imm_u(w, (sh - 32) as i64)
        }
    }
}

/// The low (`which` = 0) or high (1) 32-bit word of each i64 lane of `lo` and `hi`, as one i32x4.
fn words(b: &mut FunctionBuilder, lo: Value, hi: Value, which: u8) -> Value {
    let le = MemFlagsData::new().with_endianness(Endianness::Little);
    let lo8 = b.ins().bitcast(types::I8X16, le, lo);
    let hi8 = b.ins().bitcast(types::I8X16, le, hi);
    let o = 4 * which;
    let mask: Vec<u8> = (o..o + 4).chain(o + 8..o + 12).chain(o + 16..o + 20).chain(o + 24..o + 28).collect();
    let imm = b.func.dfg.immediates.push(ConstantData::from(mask));
    let s = b.ins().shuffle(lo8, hi8, imm);
    b.ins().bitcast(V, le, s)
}

/// `shv` with a per-lane amount: lane by lane, in 64-bit arithmetic.
fn shv_lanes(b: &mut FunctionBuilder, a: Value, s: Value) -> Value {
    let mut out = a;
    for lane in 0..4u8 {
        let x = b.ins().extractlane(a, lane);
        let n = b.ins().extractlane(s, lane);
        let x64 = b.ins().sextend(types::I64, x);
        let n64 = b.ins().sextend(types::I64, n);
        // Left: shift by min(n, 32) in 64 bits, keep the low 32 (≥ 32 gives 0).
        let c32 = b.ins().iconst(types::I64, 32);
        let ln = b.ins().smin(n64, c32);
        let l = b.ins().ishl(x64, ln);
        // Right: by min(−n, 63), arithmetic.
        let neg = b.ins().ineg(n64);
        let c63 = b.ins().iconst(types::I64, 63);
        let rn = b.ins().smin(neg, c63);
        let r = b.ins().sshr(x64, rn);
        let zero = b.ins().iconst(types::I64, 0);
        let is_left = b.ins().icmp(IntCC::SignedGreaterThanOrEqual, n64, zero);
        let v = b.ins().select(is_left, l, r);
        let v32 = b.ins().ireduce(types::I32, v);
        out = b.ins().insertlane(out, v32, lane);
    }
    out
}
