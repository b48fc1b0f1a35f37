//! `ic0` stable memory functions, 64-bit and 32-bit; writes go through the undo log of
//! [`crate::context::StableMemory`] so a trap rolls them back.

use super::{Ctx, MAX_STABLE_PAGES, R, Registry, read, trap, write};

fn stable_grow(c: &mut Ctx<'_>, new_pages: u64, max_pages: u64) -> i64 {
    c.data_mut()
        .stable
        .grow(new_pages, max_pages)
        .map_or(-1, |old| old as i64)
}

fn stable_write(c: &mut Ctx<'_>, api: &str, offset: u64, src: u64, size: u64) -> R<()> {
    let data = read(c, src, size)?;
    if c.data_mut().stable.write(offset, &data) {
        Ok(())
    } else {
        trap(format!("ic0.{api}: stable memory out of bounds"))
    }
}

fn stable_read(c: &mut Ctx<'_>, api: &str, dst: u64, offset: u64, size: u64) -> R<()> {
    let data = match c.data().stable.read(offset, size) {
        Some(data) => data.to_vec(),
        None => return trap(format!("ic0.{api}: stable memory out of bounds")),
    };
    write(c, dst, &data)
}

/// Registers the functions of this module.
pub(super) fn define_stable(r: &mut Registry) {
    const MAX_32: u64 = 65_536;
    r.add("stable64_size", |c: Ctx<'_>| -> i64 {
        c.data().stable.pages() as i64
    });
    r.add("stable64_grow", |mut c: Ctx<'_>, pages: i64| -> i64 {
        stable_grow(&mut c, pages as u64, MAX_STABLE_PAGES)
    });
    r.add(
        "stable64_write",
        |mut c: Ctx<'_>, off: i64, src: i64, size: i64| {
            stable_write(
                &mut c,
                "stable64_write",
                off as u64,
                src as u64,
                size as u64,
            )
        },
    );
    r.add(
        "stable64_read",
        |mut c: Ctx<'_>, dst: i64, off: i64, size: i64| {
            stable_read(&mut c, "stable64_read", dst as u64, off as u64, size as u64)
        },
    );
    r.add("stable_size", |c: Ctx<'_>| -> R<i32> {
        match c.data().stable.pages() {
            pages if pages <= MAX_32 => Ok(pages as i32),
            _ => trap("ic0.stable_size: stable memory is larger than 4 GiB"),
        }
    });
    r.add("stable_grow", |mut c: Ctx<'_>, pages: i32| -> i32 {
        stable_grow(&mut c, pages as u32 as u64, MAX_32) as i32
    });
    r.add(
        "stable_write",
        |mut c: Ctx<'_>, off: i32, src: i32, size: i32| {
            let (off, src, size) = (off as u32 as u64, src as u32 as u64, size as u32 as u64);
            stable_write(&mut c, "stable_write", off, src, size)
        },
    );
    r.add(
        "stable_read",
        |mut c: Ctx<'_>, dst: i32, off: i32, size: i32| {
            let (dst, off, size) = (dst as u32 as u64, off as u32 as u64, size as u32 as u64);
            stable_read(&mut c, "stable_read", dst, off, size)
        },
    );
}
