//! Encoders. They receive bare pixels, so nothing of the input's metadata can reach the output;
//! none of them writes EXIF, ICC or text chunks of its own.
//!
//! - JPEG: `jpeg-encoder` (baseline, 4:2:0, libjpeg's quality tables), faster than the `image`
//!   crate's own encoder on the 4096-pixel sanitize step (see the media worker's bench).
//! - PNG: the `image` crate's encoder (the `png` crate).
//! - WebP: libwebp through the `webp` crate, lossy at the requested quality (lossless at 100).
//!   The pure-Rust WebP encoder of the `image` crate is lossless only (ADR 0031).

use image::ImageEncoder;

use super::decode::Picture;
use super::pixels::flatten_onto_white;
use crate::error::{PortabilityError, Result};
use crate::image::ImageFormat;

fn encoder_error(format: &str, err: impl std::fmt::Display) -> PortabilityError {
    PortabilityError::Backend {
        backend: "image",
        message: format!("{format} encoding failed: {err}"),
    }
}

/// Encodes `picture` as `format` at `quality` (1..=100, checked by the caller).
pub(super) fn encode(picture: Picture, format: ImageFormat, quality: u8) -> Result<Vec<u8>> {
    match format {
        ImageFormat::Jpeg => jpeg(flatten_onto_white(picture), quality),
        ImageFormat::Png => png(&picture),
        ImageFormat::WebP => webp(&picture, quality),
    }
}

fn jpeg(picture: Picture, quality: u8) -> Result<Vec<u8>> {
    let (Ok(width), Ok(height)) = (u16::try_from(picture.width), u16::try_from(picture.height))
    else {
        return Err(PortabilityError::InvalidInput(format!(
            "JPEG cannot hold {}x{} pixels",
            picture.width, picture.height
        )));
    };
    let mut out = Vec::with_capacity(picture.pixels.len() / 8);
    let encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    encoder
        .encode(&picture.pixels, width, height, jpeg_encoder::ColorType::Rgb)
        .map_err(|err| encoder_error("JPEG", err))?;
    Ok(out)
}

fn png(picture: &Picture) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let color = if picture.channels == 4 {
        image::ExtendedColorType::Rgba8
    } else {
        image::ExtendedColorType::Rgb8
    };
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&picture.pixels, picture.width, picture.height, color)
        .map_err(|err| encoder_error("PNG", err))?;
    Ok(out)
}

fn webp(picture: &Picture, quality: u8) -> Result<Vec<u8>> {
    let encoder = if picture.channels == 4 {
        webp::Encoder::from_rgba(&picture.pixels, picture.width, picture.height)
    } else {
        webp::Encoder::from_rgb(&picture.pixels, picture.width, picture.height)
    };
    let memory = if quality >= 100 {
        encoder.encode_simple(true, 100.0)
    } else {
        encoder.encode_simple(false, f32::from(quality))
    }
    .map_err(|err| encoder_error("WebP", format!("{err:?}")))?;
    Ok(memory.to_vec())
}
