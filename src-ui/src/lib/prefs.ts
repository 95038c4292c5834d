import { load } from '@tauri-apps/plugin-store';
import { applyTheme, isThemeChoice, loadTheme, saveThemeAlsoTo } from './theme';

const FILE = 'ui.json';

/**
 * The Tauri apps' UI preferences (the theme; the desktop app and the phone app alike) also go to
 * the app's own store file (plugin-store, in the app's data folder). The webview's localStorage belongs to its origin, which is not the same
 * on every platform (tauri://localhost, http://tauri.localhost) and goes when the webview's data
 * is cleared; the file stays with the app. localStorage remains the copy read before the first
 * paint (no flash of the wrong theme); the file wins when they differ.
 */
export async function keepPreferences(): Promise<void> {
  try {
    const store = await load(FILE, { autoSave: 200, defaults: {} });
    const saved = await store.get<unknown>('theme');
    if (isThemeChoice(saved) && saved !== loadTheme()) applyTheme(saved);
    saveThemeAlsoTo((choice) => void store.set('theme', choice).catch(() => undefined));
  } catch {
    // preferences that do not stick are no reason to fail
  }
}
