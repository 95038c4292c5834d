/** The user's theme choice; "system" follows prefers-color-scheme (the CSS does that part). */
export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'arcbench.theme';

/** A second place the choice is kept (the desktop app's preferences file), set once at start-up. */
let alsoSave: ((choice: ThemeChoice) => void) | null = null;

export function saveThemeAlsoTo(save: ((choice: ThemeChoice) => void) | null): void {
  alsoSave = save;
}

export function isThemeChoice(v: unknown): v is ThemeChoice {
  return v === 'system' || v === 'light' || v === 'dark';
}

export function loadTheme(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

export function applyTheme(choice: ThemeChoice): void {
  const root = document.documentElement;
  if (choice === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', choice);
  try {
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // a theme that does not stick is no reason to fail
  }
  alsoSave?.(choice);
}
