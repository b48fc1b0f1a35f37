//! Per-viewer watermarks (contracts/api-core.md §5.3): the 500×500 overlay of the viewer's
//! wallet drawn over every revealed photo, and the 240×78 corner stamp stored with an access.
//!
//! Text becomes outlines of the bundled Roboto Mono Bold ([`glyphs`]), laid out as the original
//! laid out its SVG ([`overlay`], [`stamp`]) and rasterised with tiny-skia (resvg's renderer,
//! anti-aliased, non-zero fill, miter joins, butt caps).

pub mod glyphs;
pub mod overlay;
pub mod stamp;

use std::sync::Arc;

use portability::RgbaLayer;
use tiny_skia::Pixmap;

pub use glyphs::Typeface;
pub use overlay::{OVERLAY_SIZE, OverlayLayout, full_overlay, overlay_layout};
pub use stamp::{STAMP_HEIGHT, STAMP_WIDTH, corner_stamp};

/// Why a watermark could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum WatermarkError {
    /// The bundled face did not parse.
    #[error("watermark font: {0}")]
    Font(String),
    /// The labels do not fit 500 pixels even at the smallest size (the original's "Could not
    /// fit watermark text").
    #[error("Could not fit watermark text")]
    DoesNotFit,
    /// A canvas could not be allocated or encoded.
    #[error("watermark canvas: {0}")]
    Canvas(String),
}

/// A rendered watermark.
#[derive(Debug, Clone)]
pub struct Watermark {
    pixmap: Pixmap,
}

impl Watermark {
    fn new(pixmap: Pixmap) -> Self {
        Self { pixmap }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.pixmap.width()
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.pixmap.height()
    }

    /// The straight-alpha RGBA layer to draw over a photo.
    pub fn to_layer(&self) -> Result<Arc<RgbaLayer>, WatermarkError> {
        let mut pixels = Vec::with_capacity(self.pixmap.data().len());
        for pixel in self.pixmap.pixels() {
            let c = pixel.demultiply();
            pixels.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
        }
        RgbaLayer::new(self.width(), self.height(), pixels)
            .map(Arc::new)
            .map_err(|err| WatermarkError::Canvas(err.to_string()))
    }

    /// The transparent PNG the original stored (`wm/tiles/…`, `wm/stamps/…`).
    pub fn to_png(&self) -> Result<Vec<u8>, WatermarkError> {
        self.pixmap
            .encode_png()
            .map_err(|err| WatermarkError::Canvas(err.to_string()))
    }
}

fn canvas(width: u32, height: u32) -> Result<Pixmap, WatermarkError> {
    Pixmap::new(width, height)
        .ok_or_else(|| WatermarkError::Canvas(format!("no {width}x{height} canvas")))
}

/// A solid paint of `rgb` at `opacity`, anti-aliased.
fn paint(rgb: [u8; 3], opacity: f32) -> tiny_skia::Paint<'static> {
    let mut paint = tiny_skia::Paint::default();
    paint.set_color(
        tiny_skia::Color::from_rgba(
            f32::from(rgb[0]) / 255.0,
            f32::from(rgb[1]) / 255.0,
            f32::from(rgb[2]) / 255.0,
            opacity,
        )
        .unwrap_or(tiny_skia::Color::BLACK),
    );
    paint.anti_alias = true;
    paint
}
