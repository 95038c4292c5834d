/** The voice settings of this device (localStorage, like the theme). */
export interface VoiceSettings {
  /** A transcript is sent as a prompt at once instead of landing in the prompt box. */
  sendOnRelease: boolean;
  /** Use the browser's own recognition (Web Speech) where it works: audio goes to Apple/Google. */
  onDevice: boolean;
  /** Say how each turn of the open session ended. */
  readBack: boolean;
}

const KEY = 'arcbench.voice';

export const DEFAULT_VOICE_SETTINGS: VoiceSettings = { sendOnRelease: false, onDevice: false, readBack: false };

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export function loadVoiceSettings(s: Storage | null = storage()): VoiceSettings {
  try {
    const v = JSON.parse(s?.getItem(KEY) ?? 'null') as Partial<VoiceSettings> | null;
    return {
      sendOnRelease: v?.sendOnRelease === true,
      onDevice: v?.onDevice === true,
      readBack: v?.readBack === true,
    };
  } catch {
    return { ...DEFAULT_VOICE_SETTINGS };
  }
}

export function saveVoiceSettings(v: VoiceSettings, s: Storage | null = storage()): void {
  try {
    s?.setItem(KEY, JSON.stringify(v));
  } catch {
    // settings that do not stick are no reason to fail
  }
}
