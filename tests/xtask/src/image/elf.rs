//! Is a binary static? Reads the ELF program headers: a static executable has no `PT_INTERP`
//! (no dynamic loader to start it) and, if it is a static PIE with a `PT_DYNAMIC` segment, no
//! `DT_NEEDED` entry (no shared library to load). Nothing else about the host is needed to run it,
//! which is what an image built `FROM scratch` requires.

use object::{
    Endianness, elf,
    read::elf::{Dyn, FileHeader, ProgramHeader},
};

/// What the check found in a binary that is not a static x86-64 executable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotStatic {
    /// Not an ELF file the `object` crate can read.
    #[error("not a 64-bit ELF file: {0}")]
    Unreadable(String),
    /// Built for another machine.
    #[error("e_machine is {0}, not EM_X86_64 (62)")]
    WrongMachine(u16),
    /// Needs a dynamic loader.
    #[error("program header PT_INTERP asks for the loader {0}")]
    Interpreter(String),
    /// Needs shared libraries.
    #[error("dynamic section DT_NEEDED lists {0}")]
    Needed(String),
}

/// Facts about a static binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticElf {
    /// Whether it is position independent (`ET_DYN`, a static PIE) rather than `ET_EXEC`.
    pub pie: bool,
}

/// Checks that `data` is a static x86-64 ELF executable.
pub fn check_static(data: &[u8]) -> Result<StaticElf, NotStatic> {
    let unreadable = |e: object::read::Error| NotStatic::Unreadable(e.to_string());
    let header = elf::FileHeader64::<Endianness>::parse(data).map_err(unreadable)?;
    let endian = header.endian().map_err(unreadable)?;
    let machine = header.e_machine(endian);
    if machine != elf::EM_X86_64 {
        return Err(NotStatic::WrongMachine(machine));
    }
    let mut needed = Vec::new();
    for segment in header.program_headers(endian, data).map_err(unreadable)? {
        match segment.p_type(endian) {
            elf::PT_INTERP => {
                let path = segment
                    .interpreter(endian, data)
                    .map_err(unreadable)?
                    .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
                    .unwrap_or_default();
                return Err(NotStatic::Interpreter(path));
            }
            elf::PT_DYNAMIC => {
                let entries = segment
                    .dynamic(endian, data)
                    .map_err(unreadable)?
                    .unwrap_or_default();
                needed.extend(
                    entries
                        .iter()
                        .filter(|d| d.tag32(endian) == Some(elf::DT_NEEDED as i32))
                        .map(|d| format!("entry with string offset {}", d.d_val(endian))),
                );
            }
            _ => {}
        }
    }
    if !needed.is_empty() {
        return Err(NotStatic::Needed(needed.join(", ")));
    }
    Ok(StaticElf {
        pie: header.e_type(endian) == elf::ET_DYN,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 little-endian x86-64 file: the header and `segments` program headers
    /// (type, offset, size), followed by `tail`.
    fn elf(e_type: u16, machine: u16, segments: &[(u32, u64, u64)], tail: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&e_type.to_le_bytes());
        out.extend_from_slice(&machine.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes()); // e_version
        out.extend_from_slice(&0x40_1000u64.to_le_bytes()); // e_entry
        out.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
        out.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
        out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
        out.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
        out.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
        out.extend_from_slice(&(segments.len() as u16).to_le_bytes());
        out.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
        out.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
        out.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
        for &(p_type, offset, size) in segments {
            out.extend_from_slice(&p_type.to_le_bytes());
            out.extend_from_slice(&4u32.to_le_bytes()); // p_flags
            out.extend_from_slice(&offset.to_le_bytes());
            out.extend_from_slice(&0u64.to_le_bytes()); // p_vaddr
            out.extend_from_slice(&0u64.to_le_bytes()); // p_paddr
            out.extend_from_slice(&size.to_le_bytes()); // p_filesz
            out.extend_from_slice(&size.to_le_bytes()); // p_memsz
            out.extend_from_slice(&8u64.to_le_bytes()); // p_align
        }
        out.extend_from_slice(tail);
        out
    }

    fn tail_offset(segments: usize) -> u64 {
        64 + 56 * segments as u64
    }

    #[test]
    fn a_static_executable_and_a_static_pie_pass() {
        let exec = elf(elf::ET_EXEC, elf::EM_X86_64, &[(elf::PT_LOAD, 0, 64)], &[]);
        assert_eq!(check_static(&exec), Ok(StaticElf { pie: false }));

        // A static PIE: a dynamic section with only DT_NULL.
        let off = tail_offset(2);
        let dynamic = [0u8; 16];
        let pie = elf(
            elf::ET_DYN,
            elf::EM_X86_64,
            &[(elf::PT_LOAD, 0, 64), (elf::PT_DYNAMIC, off, 16)],
            &dynamic,
        );
        assert_eq!(check_static(&pie), Ok(StaticElf { pie: true }));
    }

    #[test]
    fn a_loader_a_needed_library_or_another_machine_fails_naming_the_field() {
        let off = tail_offset(1);
        let interp = b"/lib64/ld-linux-x86-64.so.2\0";
        let dynamic = elf(
            elf::ET_DYN,
            elf::EM_X86_64,
            &[(elf::PT_INTERP, off, interp.len() as u64)],
            interp,
        );
        let err = check_static(&dynamic).unwrap_err();
        assert_eq!(
            err,
            NotStatic::Interpreter("/lib64/ld-linux-x86-64.so.2".into())
        );
        assert!(err.to_string().contains("PT_INTERP"), "{err}");

        let mut needed = Vec::new();
        needed.extend_from_slice(&(elf::DT_NEEDED as u64).to_le_bytes());
        needed.extend_from_slice(&7u64.to_le_bytes());
        needed.extend_from_slice(&[0; 16]); // DT_NULL
        let with_lib = elf(
            elf::ET_DYN,
            elf::EM_X86_64,
            &[(elf::PT_DYNAMIC, off, needed.len() as u64)],
            &needed,
        );
        assert!(matches!(check_static(&with_lib), Err(NotStatic::Needed(_))));

        let arm = elf(elf::ET_EXEC, elf::EM_AARCH64, &[], &[]);
        assert_eq!(
            check_static(&arm),
            Err(NotStatic::WrongMachine(elf::EM_AARCH64))
        );
        assert!(matches!(
            check_static(b"#!/bin/sh\n"),
            Err(NotStatic::Unreadable(_))
        ));
    }

    #[test]
    fn this_test_binary_is_dynamic() {
        // Built for the host (glibc): it has a loader, so the check must say so.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(matches!(check_static(&me), Err(NotStatic::Interpreter(_))));
    }
}
