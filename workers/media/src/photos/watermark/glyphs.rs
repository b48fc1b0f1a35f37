//! Text to outlines, the way the original's opentype.js `getPath` laid it out: each glyph's
//! TrueType outline scaled by `size / unitsPerEm`, y flipped, the pen advanced by the glyph's
//! advance width (the face has no kerning tables), no hinting; exact bounding boxes of the
//! quadratic curves; coordinates rounded to 2 decimals as `toPathData(2)` wrote them.

use tiny_skia::{Path, PathBuilder};
use ttf_parser::{Face, GlyphId, OutlineBuilder};

use super::WatermarkError;

/// Roboto Mono Bold, the original's watermark face (OFL 1.1, `assets/fonts/`).
pub const ROBOTO_MONO_BOLD: &[u8] = include_bytes!("../../../assets/fonts/RobotoMono-Bold.ttf");

/// One outline command in pixels, y down.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Command {
    Move(f64, f64),
    Line(f64, f64),
    Quad(f64, f64, f64, f64),
    Cubic(f64, f64, f64, f64, f64, f64),
    Close,
}

/// The axis-aligned box around an outline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// Left edge.
    pub x1: f64,
    /// Top edge.
    pub y1: f64,
    /// Right edge.
    pub x2: f64,
    /// Bottom edge.
    pub y2: f64,
}

impl Bounds {
    /// `x2 − x1`.
    pub fn width(&self) -> f64 {
        self.x2 - self.x1
    }

    /// `y2 − y1`.
    pub fn height(&self) -> f64 {
        self.y2 - self.y1
    }
}

/// A line of text as outlines.
#[derive(Debug, Clone, PartialEq)]
pub struct TextOutline {
    commands: Vec<Command>,
}

/// The parsed face.
pub struct Typeface {
    face: Face<'static>,
}

impl std::fmt::Debug for Typeface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Typeface").finish_non_exhaustive()
    }
}

struct Pen<'a> {
    commands: &'a mut Vec<Command>,
    x: f64,
    y: f64,
    scale: f64,
}

impl Pen<'_> {
    fn at(&self, x: f32, y: f32) -> (f64, f64) {
        (
            self.x + f64::from(x) * self.scale,
            self.y - f64::from(y) * self.scale,
        )
    }
}

impl OutlineBuilder for Pen<'_> {
    fn move_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.at(x, y);
        self.commands.push(Command::Move(x, y));
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.at(x, y);
        self.commands.push(Command::Line(x, y));
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x1, y1) = self.at(x1, y1);
        let (x, y) = self.at(x, y);
        self.commands.push(Command::Quad(x1, y1, x, y));
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (x1, y1) = self.at(x1, y1);
        let (x2, y2) = self.at(x2, y2);
        let (x, y) = self.at(x, y);
        self.commands.push(Command::Cubic(x1, y1, x2, y2, x, y));
    }

    fn close(&mut self) {
        self.commands.push(Command::Close);
    }
}

impl Typeface {
    /// The bundled Roboto Mono Bold.
    pub fn roboto_mono_bold() -> Result<Self, WatermarkError> {
        Face::parse(ROBOTO_MONO_BOLD, 0)
            .map(|face| Self { face })
            .map_err(|err| WatermarkError::Font(err.to_string()))
    }

    /// `text` at `size` pixels with its baseline starting at (`x`, `y`).
    pub fn outline(&self, text: &str, x: f64, y: f64, size: f64) -> TextOutline {
        let scale = size / f64::from(self.face.units_per_em());
        let mut commands = Vec::new();
        let mut pen_x = x;
        for ch in text.chars() {
            // A character the face lacks is drawn as .notdef, as opentype.js does.
            let glyph = self.face.glyph_index(ch).unwrap_or(GlyphId(0));
            let mut pen = Pen {
                commands: &mut commands,
                x: pen_x,
                y,
                scale,
            };
            self.face.outline_glyph(glyph, &mut pen);
            let advance = self.face.glyph_hor_advance(glyph).unwrap_or(0);
            pen_x += f64::from(advance) * scale;
        }
        TextOutline { commands }
    }
}

/// Extends `(lo, hi)` by the extrema of the quadratic `p0 p1 p2` on one axis.
fn quad_extent(p0: f64, p1: f64, p2: f64, lo: &mut f64, hi: &mut f64) {
    let denominator = p0 - 2.0 * p1 + p2;
    if denominator != 0.0 {
        let t = (p0 - p1) / denominator;
        if t > 0.0 && t < 1.0 {
            let v = (1.0 - t) * (1.0 - t) * p0 + 2.0 * (1.0 - t) * t * p1 + t * t * p2;
            *lo = lo.min(v);
            *hi = hi.max(v);
        }
    }
}

/// Extends `(lo, hi)` by the extrema of the cubic `p0 p1 p2 p3` on one axis.
fn cubic_extent(p0: f64, p1: f64, p2: f64, p3: f64, lo: &mut f64, hi: &mut f64) {
    // Roots of the derivative a t² + b t + c.
    let a = 3.0 * (-p0 + 3.0 * p1 - 3.0 * p2 + p3);
    let b = 6.0 * (p0 - 2.0 * p1 + p2);
    let c = 3.0 * (p1 - p0);
    let mut roots = Vec::with_capacity(2);
    if a.abs() < 1e-12 {
        if b.abs() > 1e-12 {
            roots.push(-c / b);
        }
    } else {
        let disc = b * b - 4.0 * a * c;
        if disc >= 0.0 {
            let sq = disc.sqrt();
            roots.push((-b + sq) / (2.0 * a));
            roots.push((-b - sq) / (2.0 * a));
        }
    }
    for t in roots.into_iter().filter(|t| *t > 0.0 && *t < 1.0) {
        let u = 1.0 - t;
        let v = u * u * u * p0 + 3.0 * u * u * t * p1 + 3.0 * u * t * t * p2 + t * t * t * p3;
        *lo = lo.min(v);
        *hi = hi.max(v);
    }
}

fn round2(v: f64) -> f32 {
    ((v * 100.0).round() / 100.0) as f32
}

impl TextOutline {
    /// The exact box around the outline (curve extrema, not control points); `None` for text
    /// without ink (spaces only).
    pub fn bounds(&self) -> Option<Bounds> {
        let mut b = Bounds {
            x1: f64::INFINITY,
            y1: f64::INFINITY,
            x2: f64::NEG_INFINITY,
            y2: f64::NEG_INFINITY,
        };
        let add = |b: &mut Bounds, x: f64, y: f64| {
            b.x1 = b.x1.min(x);
            b.x2 = b.x2.max(x);
            b.y1 = b.y1.min(y);
            b.y2 = b.y2.max(y);
        };
        let (mut cx, mut cy, mut sx, mut sy) = (0.0, 0.0, 0.0, 0.0);
        for command in &self.commands {
            match *command {
                Command::Move(x, y) => {
                    add(&mut b, x, y);
                    (cx, cy, sx, sy) = (x, y, x, y);
                }
                Command::Line(x, y) => {
                    add(&mut b, x, y);
                    (cx, cy) = (x, y);
                }
                Command::Quad(x1, y1, x, y) => {
                    add(&mut b, x, y);
                    quad_extent(cx, x1, x, &mut b.x1, &mut b.x2);
                    quad_extent(cy, y1, y, &mut b.y1, &mut b.y2);
                    (cx, cy) = (x, y);
                }
                Command::Cubic(x1, y1, x2, y2, x, y) => {
                    add(&mut b, x, y);
                    cubic_extent(cx, x1, x2, x, &mut b.x1, &mut b.x2);
                    cubic_extent(cy, y1, y2, y, &mut b.y1, &mut b.y2);
                    (cx, cy) = (x, y);
                }
                Command::Close => (cx, cy) = (sx, sy),
            }
        }
        b.x1.is_finite().then_some(b)
    }

    /// The outline as a drawable path, coordinates rounded to 2 decimals (`toPathData(2)`);
    /// `None` for text without ink.
    pub fn to_path(&self) -> Option<Path> {
        let mut builder = PathBuilder::new();
        for command in &self.commands {
            match *command {
                Command::Move(x, y) => builder.move_to(round2(x), round2(y)),
                Command::Line(x, y) => builder.line_to(round2(x), round2(y)),
                Command::Quad(x1, y1, x, y) => {
                    builder.quad_to(round2(x1), round2(y1), round2(x), round2(y))
                }
                Command::Cubic(x1, y1, x2, y2, x, y) => builder.cubic_to(
                    round2(x1),
                    round2(y1),
                    round2(x2),
                    round2(y2),
                    round2(x),
                    round2(y),
                ),
                Command::Close => builder.close(),
            }
        }
        builder.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monospace_advance_is_six_tenths_of_an_em() {
        let face = Typeface::roboto_mono_bold().unwrap();
        // Roboto Mono advances 1229/2048 em per character.
        let one = face.outline("0", 0.0, 0.0, 20.48).bounds().unwrap();
        let two = face.outline("00", 0.0, 0.0, 20.48).bounds().unwrap();
        assert!((two.x2 - one.x2 - 12.29).abs() < 1e-9, "{one:?} {two:?}");
        // Glyphs sit on the baseline: ink above y = 0, digits with no descender.
        assert!(one.y2 <= 0.5 && one.y1 < -10.0, "{one:?}");
    }

    #[test]
    fn bounds_follow_the_pen_origin_and_size() {
        let face = Typeface::roboto_mono_bold().unwrap();
        let at_origin = face.outline("Heaven", 0.0, 0.0, 11.0).bounds().unwrap();
        let moved = face.outline("Heaven", 12.0, 18.0, 11.0).bounds().unwrap();
        assert!((moved.x1 - at_origin.x1 - 12.0).abs() < 1e-9);
        assert!((moved.y1 - at_origin.y1 - 18.0).abs() < 1e-9);
        let doubled = face.outline("Heaven", 0.0, 0.0, 22.0).bounds().unwrap();
        assert!((doubled.width() - 2.0 * at_origin.width()).abs() < 1e-9);
        assert!(face.outline("   ", 0.0, 0.0, 11.0).bounds().is_none());
        assert!(face.outline("•", 0.0, 0.0, 11.0).bounds().is_some());
    }

    #[test]
    fn quadratic_extrema_are_exact() {
        // From (0,0) through control (5,10) to (10,0): the top is at y = 5, not 10.
        let outline = TextOutline {
            commands: vec![
                Command::Move(0.0, 0.0),
                Command::Quad(5.0, 10.0, 10.0, 0.0),
                Command::Close,
            ],
        };
        let b = outline.bounds().unwrap();
        assert_eq!((b.x1, b.y1, b.x2, b.y2), (0.0, 0.0, 10.0, 5.0));
    }
}
