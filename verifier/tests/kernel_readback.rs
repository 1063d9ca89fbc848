//! The kernel is the judge: every corpus filter, compiled as its runtime loads
//! it, is installed in a child process and read back with
//! `PTRACE_SECCOMP_GET_FILTER`; the kernel must hold exactly our bytes.

use crate::compile_corpus;

use seccheck::bpf::{Insn, Program};
use seccheck::kernel::readback::{install_and_read_back, ReadbackError};

use crate::common::kernel_gate;
use kernel_gate::kernel_usable;

#[test]
fn kernel_holds_the_compiled_bytes() {
    if !kernel_usable() {
        return;
    }
    let root = compile_corpus::workspace_root();
    let outputs = compile_corpus::compile_all(&root.join("corpus/profiles")).expect("the corpus compiles");
    for o in &outputs {
        let held = install_and_read_back(&o.filter.program).unwrap_or_else(|e| panic!("{}: {e}", o.file));
        assert!(held.to_bytes() == o.filter.program.to_bytes(), "{}: the kernel holds different bytes", o.file);
    }
}

#[test]
fn kernel_refusal_is_reported() {
    if !kernel_usable() {
        return;
    }
    // Last instruction is not a RET: bpf_check_classic refuses it.
    let p = Program::new(vec![Insn::stmt(0x20, 0)]);
    match install_and_read_back(&p) {
        Err(ReadbackError::InstallRefused { errno }) => assert_eq!(errno, libc::EINVAL),
        other => panic!("{other:?}"),
    }
}
