//! Names: the legacy off-chain `.heaven` registry ([`registry`]) and the policy that issues
//! NamePermits for the on-chain Tempo names ([`policy`], with its proof of work in [`pow`]).
//! Label rules for both live in [`label`].

pub mod label;
pub mod policy;
pub mod pow;
pub mod registry;
