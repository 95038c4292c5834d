/**
 * Reads a QR code with the phone's own scanner (the barcode-scanner plugin) instead of the page's
 * camera: the webview may give a page no camera at all. Null when the user backs out; a refused
 * camera permission is an error worth reading. Whether the text is a pairing link is the pair
 * screen's business, as for a code the page's camera read.
 */
export async function scanQrNatively(): Promise<string | null> {
  const scanner = await import('@tauri-apps/plugin-barcode-scanner');
  let permission = await scanner.checkPermissions();
  if (permission !== 'granted') permission = await scanner.requestPermissions();
  if (permission !== 'granted') {
    throw new Error('Camera access was refused. Allow it in the phone’s settings for ArcBench, or paste the link.');
  }
  try {
    const scanned = await scanner.scan({ formats: [scanner.Format.QRCode], windowed: false });
    return scanned.content;
  } catch {
    // The scan's only way to end without a code is the user closing it (the plugin rejects).
    return null;
  }
}
