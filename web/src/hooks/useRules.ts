import { useCallback, useState } from 'react';

/**
 * The rules' version: bump it when the rules or what the page says about storage
 * change, and every browser is shown them again before its next Start.
 */
export const RULES_VERSION = 1;

/** Where the agreement is remembered (localStorage): the version agreed to. */
export const RULES_STORAGE_KEY = 'gomegle.rules';

function agreedVersion(): number | null {
  try {
    const stored = window.localStorage.getItem(RULES_STORAGE_KEY);
    return stored === null ? null : Number(stored);
  } catch {
    return null; // storage disabled: asked again on every page
  }
}

export interface Rules {
  /** This browser agreed to the current rules. */
  agreed: boolean;
  agree: () => void;
}

/** The 18+ rules' agreement, remembered in this browser with the rules' version. */
export function useRules(version = RULES_VERSION): Rules {
  const [agreed, setAgreed] = useState(() => agreedVersion() === version);
  const agree = useCallback(() => {
    setAgreed(true);
    try {
      window.localStorage.setItem(RULES_STORAGE_KEY, String(version));
    } catch {
      // not remembered, still agreed for this page
    }
  }, [version]);
  return { agreed, agree };
}
