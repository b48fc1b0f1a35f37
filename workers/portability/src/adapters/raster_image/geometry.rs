//! Where pixels go: the trim rectangle, the fitted size and the cover crop, as pure arithmetic
//! over sizes (no pixels), so every rule is unit-tested on its own.

use crate::error::{PortabilityError, Result};
use crate::image::{Fit, Trim};

/// A source rectangle in pixels, fractional where a cover crop falls between pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct SourceRect {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

/// What to do with an (already trimmed) image of a given size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Plan {
    /// The part of the image that is kept.
    pub source: SourceRect,
    /// The output size.
    pub width: u32,
    pub height: u32,
}

impl Plan {
    /// Whether the pixels can be used as they are (no crop, no scaling).
    pub fn is_identity(&self, width: u32, height: u32) -> bool {
        self.width == width
            && self.height == height
            && self.source.left == 0.0
            && self.source.top == 0.0
            && self.source.width == f64::from(width)
            && self.source.height == f64::from(height)
    }
}

/// The integer rectangle `(left, top, width, height)` left after removing `trim`.
pub(super) fn trimmed(width: u32, height: u32, trim: Trim) -> Result<(u32, u32, u32, u32)> {
    let horizontal = u64::from(trim.left) + u64::from(trim.right);
    let vertical = u64::from(trim.top) + u64::from(trim.bottom);
    if horizontal >= u64::from(width) || vertical >= u64::from(height) {
        return Err(PortabilityError::InvalidInput(format!(
            "trim {trim:?} leaves nothing of a {width}x{height} image"
        )));
    }
    Ok((
        trim.left,
        trim.top,
        width - trim.left - trim.right,
        height - trim.top - trim.bottom,
    ))
}

/// How an image of `width × height` fits a `box_width × box_height` box.
pub(super) fn plan(width: u32, height: u32, box_width: u32, box_height: u32, fit: Fit) -> Plan {
    let (w, h) = (f64::from(width), f64::from(height));
    let (bw, bh) = (f64::from(box_width), f64::from(box_height));
    let whole = SourceRect {
        left: 0.0,
        top: 0.0,
        width: w,
        height: h,
    };
    match fit {
        Fit::Contain => {
            if width <= box_width && height <= box_height {
                return Plan {
                    source: whole,
                    width,
                    height,
                };
            }
            let scale = (bw / w).min(bh / h);
            let out_w = ((w * scale).round() as u32).clamp(1, box_width);
            let out_h = ((h * scale).round() as u32).clamp(1, box_height);
            Plan {
                source: whole,
                width: out_w,
                height: out_h,
            }
        }
        Fit::Cover => {
            // Keep the largest centred part with the box's aspect ratio.
            let source = if w * bh > h * bw {
                let kept = h * bw / bh;
                SourceRect {
                    left: (w - kept) / 2.0,
                    top: 0.0,
                    width: kept,
                    height: h,
                }
            } else {
                let kept = w * bh / bw;
                SourceRect {
                    left: 0.0,
                    top: (h - kept) / 2.0,
                    width: w,
                    height: kept,
                }
            };
            Plan {
                source,
                width: box_width,
                height: box_height,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contain_never_upscales_and_keeps_the_aspect_ratio() {
        let small = plan(300, 200, 4096, 4096, Fit::Contain);
        assert!(small.is_identity(300, 200));
        let wide = plan(5000, 100, 4096, 4096, Fit::Contain);
        assert_eq!((wide.width, wide.height), (4096, 82));
        let tall = plan(3000, 8192, 4096, 4096, Fit::Contain);
        assert_eq!((tall.width, tall.height), (1500, 4096));
        let sliver = plan(100_000, 1, 4096, 4096, Fit::Contain);
        assert_eq!((sliver.width, sliver.height), (4096, 1));
    }

    #[test]
    fn cover_crops_the_centre_then_fills_the_box() {
        let wide = plan(1000, 500, 500, 500, Fit::Cover);
        assert_eq!((wide.width, wide.height), (500, 500));
        assert_eq!(
            wide.source,
            SourceRect {
                left: 250.0,
                top: 0.0,
                width: 500.0,
                height: 500.0
            }
        );
        let tall = plan(300, 900, 100, 200, Fit::Cover);
        assert_eq!(tall.source.top, 150.0);
        assert_eq!(tall.source.height, 600.0);
        // Cover upscales a small image.
        let small = plan(50, 50, 500, 500, Fit::Cover);
        assert_eq!((small.width, small.height), (500, 500));
        assert!(!small.is_identity(50, 50));
        assert!(plan(500, 500, 500, 500, Fit::Cover).is_identity(500, 500));
    }

    #[test]
    fn trim_removes_edges_and_refuses_to_remove_everything() {
        let trim = Trim {
            top: 0,
            right: 1032,
            bottom: 1032,
            left: 0,
        };
        assert_eq!(trimmed(2048, 2048, trim).unwrap(), (0, 0, 1016, 1016));
        let br = Trim {
            top: 1032,
            right: 0,
            bottom: 0,
            left: 1032,
        };
        assert_eq!(trimmed(2048, 2048, br).unwrap(), (1032, 1032, 1016, 1016));
        let all = Trim {
            left: 10,
            right: 10,
            ..Trim::default()
        };
        assert!(matches!(
            trimmed(20, 20, all),
            Err(PortabilityError::InvalidInput(_))
        ));
        let huge = Trim {
            left: u32::MAX,
            right: u32::MAX,
            ..Trim::default()
        };
        assert!(trimmed(20, 20, huge).is_err());
    }
}
