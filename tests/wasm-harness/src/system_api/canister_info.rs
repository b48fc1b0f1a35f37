//! `ic0` functions about the canister and its environment: identity, cycles (reported, not
//! accounted), status, subnet, time, global timer, performance counter, controllers, certified
//! data and the data certificate, environment variables (none).

use crate::{context::EntryKind, costs};

use super::{
    CYCLE_BALANCE, Ctx, DATA_CERTIFICATE, R, Registry, SUBNET_ID, copy_out, env, env_in,
    principal_arg, read, trap, u128_of, utf8_arg, write_u128,
};

/// Registers the functions of this module.
pub(super) fn define_canister(r: &mut Registry) {
    r.add("canister_self_size", |c: Ctx<'_>| -> i32 {
        c.data().canister_id.as_slice().len() as i32
    });
    r.add(
        "canister_self_copy",
        |mut c: Ctx<'_>, dst: i32, off: i32, size: i32| {
            let id = c.data().canister_id;
            copy_out(&mut c, "canister_self_copy", id.as_slice(), dst, off, size)
        },
    );
    r.add("canister_cycle_balance128", |mut c: Ctx<'_>, dst: i32| {
        write_u128(&mut c, dst, CYCLE_BALANCE)
    });
    r.add(
        "canister_liquid_cycle_balance128",
        |mut c: Ctx<'_>, dst: i32| write_u128(&mut c, dst, CYCLE_BALANCE),
    );
    r.add(
        "cycles_burn128",
        |mut c: Ctx<'_>, high: i64, low: i64, dst: i32| {
            write_u128(&mut c, dst, u128_of(high, low).min(CYCLE_BALANCE))
        },
    );
    r.add("canister_status", |_: Ctx<'_>| -> i32 { 1 });
    r.add("canister_version", |c: Ctx<'_>| -> i64 {
        c.data().version as i64
    });
    r.add("subnet_self_size", |_: Ctx<'_>| -> i32 {
        SUBNET_ID.len() as i32
    });
    r.add(
        "subnet_self_copy",
        |mut c: Ctx<'_>, dst: i32, off: i32, size: i32| {
            copy_out(&mut c, "subnet_self_copy", SUBNET_ID, dst, off, size)
        },
    );
    r.add("subnet_self_node_count", |_: Ctx<'_>| -> i32 {
        costs::NODES as i32
    });
    r.add("time", |c: Ctx<'_>| -> i64 { c.data().time as i64 });
    r.add("global_timer_set", |mut c: Ctx<'_>, when: i64| -> R<i64> {
        env_in(&mut c, "global_timer_set", |k| !k.discards_state())?;
        Ok(std::mem::replace(&mut c.data_mut().global_timer, when as u64) as i64)
    });
    r.add(
        "performance_counter",
        |mut c: Ctx<'_>, kind: i32| -> R<i64> {
            let fuel = c.get_fuel().unwrap_or(0);
            let env = env(&mut c, "performance_counter")?;
            let spent = env.fuel_limit.saturating_sub(fuel);
            match kind {
                0 => Ok(spent as i64),
                1 => Ok((spent + env.context_instructions) as i64),
                _ => trap(format!(
                    "ic0.performance_counter: unknown counter type {kind}"
                )),
            }
        },
    );
    r.add(
        "is_controller",
        |mut c: Ctx<'_>, src: i32, size: i32| -> R<i32> {
            let p = principal_arg(&mut c, "is_controller", src, size)?;
            Ok(c.data().controllers.contains(&p) as i32)
        },
    );
    r.add("in_replicated_execution", |mut c: Ctx<'_>| -> R<i32> {
        Ok(env(&mut c, "in_replicated_execution")?.kind.replicated() as i32)
    });
    r.add(
        "certified_data_set",
        |mut c: Ctx<'_>, src: i32, size: i32| {
            env_in(&mut c, "certified_data_set", |k| {
                !k.discards_state() && k != EntryKind::Cleanup
            })?;
            if size as u32 > 32 {
                return trap("ic0.certified_data_set: more than 32 bytes");
            }
            let data = read(&mut c, src as u32 as u64, size as u32 as u64)?;
            c.data_mut().certified_data = data;
            Ok(())
        },
    );
    let certified = |k| k == EntryKind::Query { replicated: false };
    r.add(
        "data_certificate_present",
        move |mut c: Ctx<'_>| -> R<i32> {
            Ok(certified(env(&mut c, "data_certificate_present")?.kind) as i32)
        },
    );
    r.add("data_certificate_size", move |mut c: Ctx<'_>| -> R<i32> {
        env_in(&mut c, "data_certificate_size", certified)?;
        Ok(DATA_CERTIFICATE.len() as i32)
    });
    r.add(
        "data_certificate_copy",
        move |mut c: Ctx<'_>, dst: i32, off: i32, size: i32| {
            env_in(&mut c, "data_certificate_copy", certified)?;
            copy_out(
                &mut c,
                "data_certificate_copy",
                DATA_CERTIFICATE,
                dst,
                off,
                size,
            )
        },
    );
    r.add("env_var_count", |_: Ctx<'_>| -> i32 { 0 });
    r.add("env_var_name_exists", |_: Ctx<'_>, _: i32, _: i32| -> i32 {
        0
    });
    r.add("env_var_name_size", |_: Ctx<'_>, i: i32| -> R<i32> {
        trap(format!(
            "ic0.env_var_name_size: index {i} out of bounds (no variables)"
        ))
    });
    r.add(
        "env_var_name_copy",
        |_: Ctx<'_>, i: i32, _: i32, _: i32, _: i32| -> R<()> {
            trap(format!(
                "ic0.env_var_name_copy: index {i} out of bounds (no variables)"
            ))
        },
    );
    r.add(
        "env_var_value_size",
        |mut c: Ctx<'_>, src: i32, size: i32| -> R<i32> {
            let name = utf8_arg(&mut c, "env_var_value_size", src, size)?;
            trap(format!(
                "ic0.env_var_value_size: no environment variable `{name}`"
            ))
        },
    );
    r.add(
        "env_var_value_copy",
        |mut c: Ctx<'_>, src: i32, size: i32, _: i32, _: i32, _: i32| -> R<()> {
            let name = utf8_arg(&mut c, "env_var_value_copy", src, size)?;
            trap(format!(
                "ic0.env_var_value_copy: no environment variable `{name}`"
            ))
        },
    );
}
