//! Turning input bytes into pixels: the format is recognised from the bytes, the header is read
//! and its pixel count checked against the limit before any pixel is decoded, then the pixels
//! are decoded and the EXIF orientation applied. Nothing else of the input's metadata survives:
//! only pixels leave this module.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

use crate::error::{PortabilityError, Result};
use crate::image::{ImageFormat, ImageInfo};

/// Decoded pixels, 8 bits per channel: RGB when the input had no alpha, RGBA when it had.
pub(super) struct Picture {
    pub width: u32,
    pub height: u32,
    /// 3 (RGB) or 4 (RGBA, straight alpha).
    pub channels: u8,
    pub pixels: Vec<u8>,
}

/// The format of `input`, from its signature: JPEG, PNG and WebP only.
pub(super) fn sniff(input: &[u8]) -> Result<ImageFormat> {
    match image::guess_format(input) {
        Ok(image::ImageFormat::Jpeg) => Ok(ImageFormat::Jpeg),
        Ok(image::ImageFormat::Png) => Ok(ImageFormat::Png),
        Ok(image::ImageFormat::WebP) => Ok(ImageFormat::WebP),
        Ok(other) => Err(invalid(format!(
            "{other:?} images are not accepted (JPEG, PNG or WebP only)"
        ))),
        Err(_) => Err(invalid(
            "not a JPEG, PNG or WebP image (unrecognised signature)".to_owned(),
        )),
    }
}

fn invalid(message: String) -> PortabilityError {
    PortabilityError::InvalidInput(message)
}

fn decoder_error(err: image::ImageError) -> PortabilityError {
    match err {
        image::ImageError::Limits(limit) => invalid(format!("image exceeds the limits: {limit}")),
        other => invalid(format!("undecodable image: {other}")),
    }
}

/// Opens a decoder on `input` with the header read and the pixel count checked.
fn open(input: &[u8], max_pixels: u64) -> Result<(ImageFormat, impl ImageDecoder + '_, u32, u32)> {
    let format = sniff(input)?;
    let mut reader = ImageReader::new(Cursor::new(input));
    reader.set_format(match format {
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::WebP => image::ImageFormat::WebP,
    });
    // Belt and braces behind the explicit pixel-count check below: no decoder may allocate
    // much more than the largest accepted picture at 16 bits per RGBA channel.
    let mut limits = Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(64 << 20));
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(decoder_error)?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(invalid(format!(
            "image of {width}x{height} has {pixels} pixels, more than the limit of {max_pixels}"
        )));
    }
    if pixels == 0 {
        return Err(invalid("image has no pixels".to_owned()));
    }
    Ok((format, decoder, width, height))
}

fn swaps_sides(orientation: image::metadata::Orientation) -> bool {
    use image::metadata::Orientation::*;
    matches!(
        orientation,
        Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH
    )
}

/// Format and displayed size of `input`, from its header.
pub(super) fn info(input: &[u8], max_pixels: u64) -> Result<ImageInfo> {
    let (format, mut decoder, width, height) = open(input, max_pixels)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let (width, height) = if swaps_sides(orientation) {
        (height, width)
    } else {
        (width, height)
    };
    Ok(ImageInfo {
        format,
        width,
        height,
    })
}

/// Decodes `input` (after the checks of [`open`]) and applies its orientation.
pub(super) fn decode(input: &[u8], max_pixels: u64) -> Result<Picture> {
    let (_, mut decoder, _, _) = open(input, max_pixels)?;
    // An unreadable orientation tag is no orientation, as browsers treat it.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(decoder_error)?;
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());
    let (channels, pixels) = if image.color().has_alpha() {
        (4, image.into_rgba8().into_raw())
    } else {
        (3, image.into_rgb8().into_raw())
    };
    Ok(Picture {
        width,
        height,
        channels,
        pixels,
    })
}
