//! The 240×78 corner stamp: a rounded translucent black card with `Revealed to:`, the wallet,
//! `fp:<code>` and the date (contracts/api-core.md §5.3).

use tiny_skia::{FillRule, PathBuilder, Transform};

use super::glyphs::Typeface;
use super::{Watermark, WatermarkError, canvas, paint};

/// The stamp's width in pixels.
pub const STAMP_WIDTH: u32 = 240;
/// The stamp's height in pixels.
pub const STAMP_HEIGHT: u32 = 78;
const CORNER_RADIUS: f32 = 10.0;
const CARD_OPACITY: f32 = 0.75;
const TEXT_LEFT: f64 = 12.0;

/// A rectangle with round corners of `radius`, as SVG's `rect rx` (cubic quarter circles).
fn rounded_rect(width: f32, height: f32, radius: f32) -> Option<tiny_skia::Path> {
    // Control-point distance of a cubic quarter circle.
    let k = radius * 0.552_284_8;
    let (w, h, r) = (width, height, radius);
    let mut b = PathBuilder::new();
    b.move_to(r, 0.0);
    b.line_to(w - r, 0.0);
    b.cubic_to(w - r + k, 0.0, w, r - k, w, r);
    b.line_to(w, h - r);
    b.cubic_to(w, h - r + k, w - r + k, h, w - r, h);
    b.line_to(r, h);
    b.cubic_to(r - k, h, 0.0, h - r + k, 0.0, h - r);
    b.line_to(0.0, r);
    b.cubic_to(0.0, r - k, r - k, 0.0, r, 0.0);
    b.close();
    b.finish()
}

/// Renders the stamp for `wallet` (as given), fingerprint `code` and `date` (`YYYY-MM-DD`).
pub fn corner_stamp(
    face: &Typeface,
    wallet: &str,
    code: &str,
    date: &str,
) -> Result<Watermark, WatermarkError> {
    let mut pixmap = canvas(STAMP_WIDTH, STAMP_HEIGHT)?;
    let card = rounded_rect(STAMP_WIDTH as f32, STAMP_HEIGHT as f32, CORNER_RADIUS)
        .ok_or_else(|| WatermarkError::Canvas("stamp card".to_owned()))?;
    pixmap.fill_path(
        &card,
        &paint([0, 0, 0], CARD_OPACITY),
        FillRule::Winding,
        Transform::identity(),
        None,
    );
    // (text, baseline, size, opacity)
    let fingerprint = format!("fp:{code}");
    let lines: [(&str, f64, f64, f32); 4] = [
        ("Revealed to:", 18.0, 10.0, 0.7),
        (wallet, 38.0, 13.0, 0.95),
        (&fingerprint, 54.0, 11.0, 0.95),
        (date, 70.0, 9.0, 0.6),
    ];
    for (text, baseline, size, opacity) in lines {
        if let Some(path) = face.outline(text, TEXT_LEFT, baseline, size).to_path() {
            pixmap.fill_path(
                &path,
                &paint([255, 255, 255], opacity),
                FillRule::Winding,
                Transform::identity(),
                None,
            );
        }
    }
    Ok(Watermark::new(pixmap))
}
