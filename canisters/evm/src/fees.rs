//! EIP-1559 fee caps from one `eth_gasPrice` read (an outcall every replica agrees on after
//! the transform rounds it up to a power of two).

/// The most tip per gas a transaction offers: 0.001 gwei (what the chains' nodes suggest when
/// blocks are not full; paying more buys nothing). Capped at the gas price so that the tip
/// never exceeds the fee cap.
pub const MAX_PRIORITY_FEE_WEI: u128 = 1_000_000;

/// `(max_priority_fee_per_gas, max_fee_per_gas)` from the gas price: the fee cap is twice the
/// gas price, so a transaction stays includable while the base fee rises for several blocks;
/// only base fee plus tip is charged, never the cap.
pub fn fee_caps(gas_price: u128) -> (u128, u128) {
    (
        gas_price.min(MAX_PRIORITY_FEE_WEI),
        gas_price.saturating_mul(2),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tip_never_exceeds_the_cap() {
        assert_eq!(fee_caps(10), (10, 20));
        assert_eq!(fee_caps(5_000_000_000), (1_000_000, 10_000_000_000));
        assert_eq!(fee_caps(u128::MAX).1, u128::MAX);
    }
}
