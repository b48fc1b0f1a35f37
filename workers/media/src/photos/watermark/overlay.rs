//! The full 500×500 overlay: `Heaven Dating • <wallet>` and `<wallet> • Heaven Dating` on seven
//! alternating rows, each centred, stroked in translucent black then filled in translucent
//! white (contracts/api-core.md §5.3).

use tiny_skia::{FillRule, LineCap, LineJoin, Stroke, Transform};

use super::glyphs::{TextOutline, Typeface};
use super::{Watermark, WatermarkError, canvas, paint};

/// The overlay's side in pixels.
pub const OVERLAY_SIZE: u32 = 500;
/// Sizes tried, largest first.
const LARGEST_SIZE: u32 = 11;
const SMALLEST_SIZE: u32 = 6;
/// Rows and the tops of the first and last.
const ROWS: usize = 7;
const FIRST_ROW_TOP: f64 = 35.0;
const LAST_ROW_TOP: f64 = 465.0;
/// Stroke (under) and fill (over).
const STROKE_WIDTH: f32 = 3.0;
const STROKE_OPACITY: f32 = 0.2;
const FILL_OPACITY: f32 = 0.45;

/// Where the overlay's text goes.
#[derive(Debug, Clone, PartialEq)]
pub struct OverlayLayout {
    /// The size both labels fit at (11 down to 6).
    pub font_size: u32,
    /// The two labels, brand first then wallet first.
    pub labels: [String; 2],
    /// Each label's bounding width at that size.
    pub widths: [f64; 2],
    /// Each row: which label, and the top-left corner of its bounding box.
    pub rows: Vec<(usize, f64, f64)>,
}

/// The labels for `wallet` (the full address) and the size and rows they are drawn at.
pub fn overlay_layout(face: &Typeface, wallet: &str) -> Result<OverlayLayout, WatermarkError> {
    let labels = [
        format!("Heaven Dating \u{2022} {wallet}"),
        format!("{wallet} \u{2022} Heaven Dating"),
    ];
    for size in (SMALLEST_SIZE..=LARGEST_SIZE).rev() {
        let width = |label: &str| {
            face.outline(label, 0.0, 0.0, f64::from(size))
                .bounds()
                .map_or(0.0, |b| b.width())
        };
        let widths = [width(&labels[0]), width(&labels[1])];
        if widths[0].max(widths[1]) <= f64::from(OVERLAY_SIZE) {
            let step = (LAST_ROW_TOP - FIRST_ROW_TOP) / (ROWS - 1) as f64;
            let rows = (0..ROWS)
                .map(|i| {
                    let label = i % 2;
                    let left = (f64::from(OVERLAY_SIZE) - widths[label]) / 2.0;
                    (label, left, FIRST_ROW_TOP + i as f64 * step)
                })
                .collect();
            return Ok(OverlayLayout {
                font_size: size,
                labels,
                widths,
                rows,
            });
        }
    }
    Err(WatermarkError::DoesNotFit)
}

/// `label` at `size` moved so its bounding box starts at (0, 0).
fn normalised(face: &Typeface, label: &str, size: f64) -> TextOutline {
    let bounds = face.outline(label, 0.0, 0.0, size).bounds();
    let (dx, dy) = bounds.map_or((0.0, 0.0), |b| (-b.x1, -b.y1));
    face.outline(label, dx, dy, size)
}

/// Renders the overlay for `wallet`.
pub fn full_overlay(face: &Typeface, wallet: &str) -> Result<Watermark, WatermarkError> {
    let layout = overlay_layout(face, wallet)?;
    let size = f64::from(layout.font_size);
    let paths = [
        normalised(face, &layout.labels[0], size).to_path(),
        normalised(face, &layout.labels[1], size).to_path(),
    ];
    let mut pixmap = canvas(OVERLAY_SIZE, OVERLAY_SIZE)?;
    let stroke_paint = paint([0, 0, 0], STROKE_OPACITY);
    let fill_paint = paint([255, 255, 255], FILL_OPACITY);
    let stroke = Stroke {
        width: STROKE_WIDTH,
        miter_limit: 4.0,
        line_cap: LineCap::Butt,
        line_join: LineJoin::Miter,
        dash: None,
    };
    for &(label, left, top) in &layout.rows {
        let Some(path) = &paths[label] else {
            continue;
        };
        let at = Transform::from_translate(left as f32, top as f32);
        pixmap.stroke_path(path, &stroke_paint, &stroke, at, None);
        pixmap.fill_path(path, &fill_paint, FillRule::Winding, at, None);
    }
    Ok(Watermark::new(pixmap))
}
