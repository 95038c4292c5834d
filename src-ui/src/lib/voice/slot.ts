/** What the prompt box gives its mic slot (`PromptComposer`'s `mic` snippet). */
export interface MicSlot {
  sessionId: string;
  /** Puts text into the prompt box after what is there. */
  insert: (text: string) => void;
  /** The prompt box is busy (storing a prompt). */
  disabled: boolean;
}
