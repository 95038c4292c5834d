//! Pairing QR codes: in the terminal (`arcbench serve`'s banner, `arcbench pair`), as SVG (the
//! app's and the remote's pairing screens) and as PNG (`arcbench pair --png`).

use qrcode::{Color, EcLevel, QrCode};

#[derive(Debug, thiserror::Error)]
#[error("cannot make a QR code of that text: {0}")]
pub struct QrError(String);

/// Modules of quiet zone around the code, as the standard asks.
const QUIET: usize = 4;

pub struct Qr(QrCode);

impl Qr {
    pub fn new(text: &str) -> Result<Qr, QrError> {
        // Medium error correction: a phone screen photographed at an angle still reads.
        QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map(Qr)
            .map_err(|e| QrError(e.to_string()))
    }

    /// Two modules per character cell (upper and lower half blocks), dark on light, with the
    /// quiet zone: scannable from a dark or a light terminal.
    pub fn to_terminal(&self) -> String {
        let w = self.0.width();
        let dark = |x: isize, y: isize| -> bool {
            x >= 0
                && y >= 0
                && (x as usize) < w
                && (y as usize) < w
                && self.0[(x as usize, y as usize)] == Color::Dark
        };
        let q = QUIET as isize;
        let mut out = String::new();
        let mut y = -q;
        while y < w as isize + q {
            for x in -q..w as isize + q {
                // Light modules are drawn (the terminal's background may be dark).
                out.push(match (!dark(x, y), !dark(x, y + 1)) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                });
            }
            out.push('\n');
            y += 2;
        }
        out
    }

    pub fn to_svg(&self) -> String {
        self.0
            .render::<qrcode::render::svg::Color<'_>>()
            .quiet_zone(true)
            .min_dimensions(256, 256)
            .build()
    }

    /// A grayscale PNG, `scale` pixels per module.
    pub fn to_png(&self, scale: usize) -> Vec<u8> {
        let scale = scale.max(1);
        let w = self.0.width();
        let side = (w + 2 * QUIET) * scale;
        let mut pixels = vec![255u8; side * side];
        for y in 0..w {
            for x in 0..w {
                if self.0[(x, y)] == Color::Dark {
                    for dy in 0..scale {
                        let row = ((y + QUIET) * scale + dy) * side;
                        let start = row + (x + QUIET) * scale;
                        pixels[start..start + scale].fill(0);
                    }
                }
            }
        }
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, side as u32, side as u32);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Eight);
            let mut writer = enc.write_header().expect("writing to memory");
            writer.write_image_data(&pixels).expect("writing to memory");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_format() {
        let qr =
            Qr::new("https://laptop.tail1234.ts.net:8000/app/#/pair?code=7KQ3M9XD2HVB").unwrap();
        let term = qr.to_terminal();
        assert!(term.lines().count() > 10 && term.contains('▀'));
        assert!(qr.to_svg().starts_with("<?xml") || qr.to_svg().contains("<svg"));
        let png = qr.to_png(4);
        assert_eq!(&png[1..4], b"PNG");
    }
}
