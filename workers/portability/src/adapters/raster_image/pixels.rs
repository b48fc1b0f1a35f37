//! Operations on decoded pixels: crop and resample (fast_image_resize, Lanczos3, alpha-aware),
//! the "over" operator for overlays, and flattening onto white for encoders without alpha.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use super::decode::Picture;
use super::geometry::Plan;
use crate::error::{PortabilityError, Result};
use crate::image::{Overlay, RgbaLayer};

fn resize_error(err: impl std::fmt::Display) -> PortabilityError {
    PortabilityError::Backend {
        backend: "image",
        message: format!("resize failed: {err}"),
    }
}

fn pixel_type(channels: u8) -> PixelType {
    if channels == 4 {
        PixelType::U8x4
    } else {
        PixelType::U8x3
    }
}

/// Copies the integer rectangle `(left, top, width, height)` out of `picture`.
pub(super) fn crop(picture: &Picture, left: u32, top: u32, width: u32, height: u32) -> Picture {
    if left == 0 && top == 0 && width == picture.width && height == picture.height {
        return Picture {
            width,
            height,
            channels: picture.channels,
            pixels: picture.pixels.clone(),
        };
    }
    let channels = usize::from(picture.channels);
    let stride = picture.width as usize * channels;
    let row_bytes = width as usize * channels;
    let mut pixels = Vec::with_capacity(row_bytes * height as usize);
    for row in top..top + height {
        let start = row as usize * stride + left as usize * channels;
        pixels.extend_from_slice(&picture.pixels[start..start + row_bytes]);
    }
    Picture {
        width,
        height,
        channels: picture.channels,
        pixels,
    }
}

/// Applies `plan` to `picture`: crops its source rectangle and resamples it to the plan's size.
pub(super) fn resample(resizer: &mut Resizer, picture: Picture, plan: &Plan) -> Result<Picture> {
    if plan.is_identity(picture.width, picture.height) {
        return Ok(picture);
    }
    let kind = pixel_type(picture.channels);
    let source = ImageRef::new(picture.width, picture.height, &picture.pixels, kind)
        .map_err(resize_error)?;
    let mut target = Image::new(plan.width, plan.height, kind);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .crop(
            plan.source.left,
            plan.source.top,
            plan.source.width,
            plan.source.height,
        );
    resizer
        .resize(&source, &mut target, &options)
        .map_err(resize_error)?;
    Ok(Picture {
        width: plan.width,
        height: plan.height,
        channels: picture.channels,
        pixels: target.into_vec(),
    })
}

/// `a · b / 255`, rounded.
fn mul_div255(a: u32, b: u32) -> u32 {
    let t = a * b + 128;
    (t + (t >> 8)) >> 8
}

/// Draws `overlay` over `picture` with the "over" operator on straight alpha, clipped to the
/// picture. An RGB picture stays opaque; an RGBA one gets the combined alpha.
pub(super) fn draw(picture: &mut Picture, overlay: &Overlay) {
    let layer: &RgbaLayer = &overlay.layer;
    let opacity = (overlay.opacity.clamp(0.0, 1.0) * 255.0).round() as u32;
    if opacity == 0 {
        return;
    }
    let channels = usize::from(picture.channels);
    let (pw, ph) = (i64::from(picture.width), i64::from(picture.height));
    let (lw, lh) = (i64::from(layer.width()), i64::from(layer.height()));
    let x0 = overlay.left.max(0);
    let y0 = overlay.top.max(0);
    let x1 = (overlay.left + lw).min(pw);
    let y1 = (overlay.top + lh).min(ph);
    if x0 >= x1 || y0 >= y1 {
        return;
    }
    let src = layer.pixels();
    for y in y0..y1 {
        let ly = (y - overlay.top) as usize;
        for x in x0..x1 {
            let lx = (x - overlay.left) as usize;
            let s = &src[(ly * lw as usize + lx) * 4..][..4];
            let sa = mul_div255(u32::from(s[3]), opacity);
            if sa == 0 {
                continue;
            }
            let d = &mut picture.pixels[(y as usize * pw as usize + x as usize) * channels..]
                [..channels];
            if channels == 3 {
                for c in 0..3 {
                    let value =
                        mul_div255(u32::from(s[c]), sa) + mul_div255(u32::from(d[c]), 255 - sa);
                    d[c] = value.min(255) as u8;
                }
            } else {
                let da = u32::from(d[3]);
                let out_a = sa + mul_div255(da, 255 - sa);
                if out_a == 0 {
                    continue;
                }
                for c in 0..3 {
                    let premultiplied =
                        u32::from(s[c]) * sa + mul_div255(u32::from(d[c]) * da, 255 - sa);
                    d[c] = ((premultiplied + out_a / 2) / out_a).min(255) as u8;
                }
                d[3] = out_a.min(255) as u8;
            }
        }
    }
}

/// RGB pixels of `picture`, transparent parts flattened onto white.
pub(super) fn flatten_onto_white(picture: Picture) -> Picture {
    if picture.channels == 3 {
        return picture;
    }
    let mut pixels = Vec::with_capacity(picture.width as usize * picture.height as usize * 3);
    for p in picture.pixels.chunks_exact(4) {
        let a = u32::from(p[3]);
        for &c in &p[..3] {
            pixels.push((mul_div255(u32::from(c), a) + (255 - a)).min(255) as u8);
        }
    }
    Picture {
        width: picture.width,
        height: picture.height,
        channels: 3,
        pixels,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn solid(width: u32, height: u32, pixel: &[u8]) -> Picture {
        Picture {
            width,
            height,
            channels: pixel.len() as u8,
            pixels: pixel.repeat((width * height) as usize),
        }
    }

    fn overlay(layer: RgbaLayer, left: i64, top: i64, opacity: f32) -> Overlay {
        Overlay {
            layer: Arc::new(layer),
            left,
            top,
            opacity,
        }
    }

    #[test]
    fn over_blends_by_alpha_times_opacity() {
        let mut picture = solid(2, 1, &[100, 100, 100]);
        let white_half = RgbaLayer::new(1, 1, vec![255, 255, 255, 128]).unwrap();
        draw(&mut picture, &overlay(white_half.clone(), 0, 0, 1.0));
        draw(&mut picture, &overlay(white_half, 1, 0, 0.5));
        // 100 + (255 - 100) · 128/255 ≈ 178; at half opacity 100 + 155 · 64/255 ≈ 139.
        assert_eq!(&picture.pixels[..3], &[178, 178, 178]);
        assert_eq!(&picture.pixels[3..], &[139, 139, 139]);
    }

    #[test]
    fn over_a_transparent_picture_keeps_the_layer() {
        let mut picture = solid(1, 1, &[0, 0, 0, 0]);
        let red = RgbaLayer::new(1, 1, vec![255, 0, 0, 200]).unwrap();
        draw(&mut picture, &overlay(red, 0, 0, 1.0));
        assert_eq!(picture.pixels, vec![255, 0, 0, 200]);
        // Over a half-transparent blue: alpha 200 + 128·55/255 ≈ 228.
        let mut picture = solid(1, 1, &[0, 0, 255, 128]);
        let red = RgbaLayer::new(1, 1, vec![255, 0, 0, 200]).unwrap();
        draw(&mut picture, &overlay(red, 0, 0, 1.0));
        assert_eq!(picture.pixels[3], 228);
        assert!(picture.pixels[0] > 200 && picture.pixels[2] < 60);
    }

    #[test]
    fn layers_are_clipped_to_the_picture() {
        let mut picture = solid(3, 3, &[0, 0, 0]);
        let white = RgbaLayer::new(2, 2, vec![255; 16]).unwrap();
        draw(&mut picture, &overlay(white.clone(), -1, -1, 1.0));
        draw(&mut picture, &overlay(white.clone(), 2, 2, 1.0));
        draw(&mut picture, &overlay(white, 5, 5, 1.0));
        let lit: Vec<bool> = picture.pixels.chunks(3).map(|p| p[0] == 255).collect();
        assert_eq!(
            lit,
            vec![true, false, false, false, false, false, false, false, true]
        );
    }

    #[test]
    fn crop_copies_the_rectangle() {
        let picture = Picture {
            width: 3,
            height: 2,
            channels: 3,
            pixels: (0..18).collect(),
        };
        let cropped = crop(&picture, 1, 1, 2, 1);
        assert_eq!(cropped.pixels, vec![12, 13, 14, 15, 16, 17]);
    }

    #[test]
    fn flattening_puts_transparency_on_white() {
        let picture = Picture {
            width: 2,
            height: 1,
            channels: 4,
            pixels: vec![0, 0, 0, 0, 0, 0, 0, 255],
        };
        assert_eq!(
            flatten_onto_white(picture).pixels,
            vec![255, 255, 255, 0, 0, 0]
        );
    }
}
