//! Packet duration from the Opus TOC byte (RFC 6716 §3.1), without libopus.

use crate::MediaError;

/// One 20 ms Opus packet of digital silence (CELT, fullband, mono, one frame): what a
/// recording holds for time its device did not hear (SPEC §7.3, §12.7).
pub const SILENT_PACKET: [u8; 3] = [0xf8, 0xff, 0xfe];

/// Samples at 48 kHz that `packet` decodes to, or why it is not an Opus packet.
pub fn packet_samples(packet: &[u8]) -> Result<u32, MediaError> {
    let bad = |detail: &str| MediaError::BadPacket { packet: 0, detail: detail.to_owned() };
    let toc = *packet.first().ok_or_else(|| bad("empty packet"))?;
    let config = toc >> 3;
    // Frame size in 48 kHz samples by configuration number (RFC 6716 Table 2).
    let frame: u32 = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config % 4)], // SILK: 10, 20, 40, 60 ms
        12..=15 => [480, 960][usize::from(config % 2)],            // Hybrid: 10, 20 ms
        _ => [120, 240, 480, 960][usize::from(config % 4)],        // CELT: 2.5, 5, 10, 20 ms
    };
    let frames: u32 = match toc & 0x03 {
        0 => 1,
        1 | 2 => 2,
        _ => {
            let count = *packet.get(1).ok_or_else(|| bad("code 3 packet without a frame count"))?;
            u32::from(count & 0x3f)
        }
    };
    let samples = frame * frames;
    if frames == 0 || samples > 5760 {
        return Err(bad("frame count out of range (over 120 ms or zero)"));
    }
    Ok(samples)
}
