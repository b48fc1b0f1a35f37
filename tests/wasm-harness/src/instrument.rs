//! Prepares a canister module for the harness, as the IC's own instrumentation does: every
//! global, the first table and the first memory are exported (under `__harness_*` names when the
//! module does not export them itself), so the harness can snapshot and roll back the whole
//! instance state and call callbacks through the table. Also checks that every import is an
//! `ic0` function the harness implements, naming the first one that is not.

use std::collections::BTreeMap;

use wasm_encoder::{ExportKind, ExportSection, RawSection};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef};

use crate::error::{HarnessError, Result};

/// A module ready for instantiation plus the export names of its state.
#[derive(Clone, Debug)]
pub struct Instrumented {
    /// The rewritten wasm.
    pub wasm: Vec<u8>,
    /// Export name of memory 0.
    pub memory: String,
    /// Export name of table 0, if the module has a table.
    pub table: Option<String>,
    /// Export names of every global defined (not imported) by the module, with mutability.
    pub globals: Vec<(String, bool)>,
    /// The exported function names (`canister_update foo`, `canister_init`, ...).
    pub functions: Vec<String>,
}

fn invalid(e: impl std::fmt::Display) -> HarnessError {
    HarnessError::InvalidWasm(e.to_string())
}

/// Instruments `wasm`; `implemented` says whether an `ic0` function name is provided.
pub fn instrument(wasm: &[u8], implemented: impl Fn(&str) -> bool) -> Result<Instrumented> {
    let mut out = wasm_encoder::Module::new();
    let mut imported_globals = 0u32;
    let mut imported_tables = 0u32;
    let mut imported_memories = 0u32;
    let mut defined_globals: Vec<bool> = Vec::new();
    let mut has_table = false;
    let mut has_memory = false;
    let mut result = None;
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(invalid)?;
        let (id, range) = match &payload {
            Payload::ImportSection(reader) => {
                for import in reader.clone().into_imports() {
                    let import = import.map_err(invalid)?;
                    let supported = import.module == "ic0"
                        && matches!(import.ty, TypeRef::Func(_))
                        && implemented(import.name);
                    if !supported {
                        return Err(HarnessError::UnsupportedImport {
                            module: import.module.to_string(),
                            name: import.name.to_string(),
                        });
                    }
                    match import.ty {
                        TypeRef::Global(_) => imported_globals += 1,
                        TypeRef::Table(_) => imported_tables += 1,
                        TypeRef::Memory(_) => imported_memories += 1,
                        _ => {}
                    }
                }
                (2, reader.range())
            }
            Payload::TypeSection(r) => (1, r.range()),
            Payload::FunctionSection(r) => (3, r.range()),
            Payload::TableSection(r) => {
                has_table |= r.count() > 0;
                (4, r.range())
            }
            Payload::MemorySection(r) => {
                has_memory |= r.count() > 0;
                (5, r.range())
            }
            Payload::TagSection(r) => (13, r.range()),
            Payload::GlobalSection(r) => {
                for g in r.clone() {
                    defined_globals.push(g.map_err(invalid)?.ty.mutable);
                }
                (6, r.range())
            }
            Payload::ExportSection(r) => {
                let (section, instrumented) = exports(
                    r.clone(),
                    imported_globals,
                    &defined_globals,
                    has_table.then_some(imported_tables),
                    has_memory.then_some(imported_memories),
                )?;
                out.section(&section);
                result = Some(instrumented);
                continue;
            }
            Payload::StartSection { range, .. } => (8, range.clone()),
            Payload::ElementSection(r) => (9, r.range()),
            Payload::DataCountSection { range, .. } => (12, range.clone()),
            Payload::DataSection(r) => (11, r.range()),
            Payload::CodeSectionStart { range, .. } => (10, range.clone()),
            Payload::CodeSectionEntry(_)
            | Payload::CustomSection(_)
            | Payload::Version { .. }
            | Payload::End(_) => continue,
            other => return Err(invalid(format!("unsupported wasm section {other:?}"))),
        };
        out.section(&RawSection {
            id,
            data: &wasm[range],
        });
    }
    let mut instrumented =
        result.ok_or_else(|| invalid("the module has no export section (not a canister)"))?;
    instrumented.wasm = out.finish();
    Ok(instrumented)
}

/// Re-encodes the export section with the harness's extra exports.
fn exports(
    reader: wasmparser::ExportSectionReader<'_>,
    imported_globals: u32,
    defined_globals: &[bool],
    table: Option<u32>,
    memory: Option<u32>,
) -> Result<(ExportSection, Instrumented)> {
    let mut section = ExportSection::new();
    let mut globals: BTreeMap<u32, String> = BTreeMap::new();
    let mut table_name = None;
    let mut memory_name = None;
    let mut functions = Vec::new();
    for export in reader {
        let export = export.map_err(invalid)?;
        let kind = match export.kind {
            ExternalKind::Func | ExternalKind::FuncExact => {
                functions.push(export.name.to_string());
                ExportKind::Func
            }
            ExternalKind::Table => {
                if Some(export.index) == table {
                    table_name.get_or_insert_with(|| export.name.to_string());
                }
                ExportKind::Table
            }
            ExternalKind::Memory => {
                if Some(export.index) == memory {
                    memory_name.get_or_insert_with(|| export.name.to_string());
                }
                ExportKind::Memory
            }
            ExternalKind::Global => {
                globals
                    .entry(export.index)
                    .or_insert_with(|| export.name.to_string());
                ExportKind::Global
            }
            ExternalKind::Tag => ExportKind::Tag,
        };
        section.export(export.name, kind, export.index);
    }
    let memory_index = memory.ok_or_else(|| invalid("the module defines no memory"))?;
    let memory_name = memory_name.unwrap_or_else(|| {
        section.export("__harness_memory", ExportKind::Memory, memory_index);
        "__harness_memory".to_string()
    });
    let table_name = table.map(|index| {
        table_name.unwrap_or_else(|| {
            section.export("__harness_table", ExportKind::Table, index);
            "__harness_table".to_string()
        })
    });
    let mut global_names = Vec::new();
    for (offset, mutable) in defined_globals.iter().enumerate() {
        let index = imported_globals + offset as u32;
        let name = globals.get(&index).cloned().unwrap_or_else(|| {
            let name = format!("__harness_global_{index}");
            section.export(&name, ExportKind::Global, index);
            name
        });
        global_names.push((name, *mutable));
    }
    Ok((
        section,
        Instrumented {
            wasm: Vec::new(),
            memory: memory_name,
            table: table_name,
            globals: global_names,
            functions,
        },
    ))
}
