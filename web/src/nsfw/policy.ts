// When the stranger's video is blurred: a state machine of one conversation that
// does no I/O (the hook that samples the video feeds it), so every rule is tested
// with injected scores.
import { isUnsafe, type Scores, type Thresholds } from './scores';

/** Flagged stills in one conversation after which the page offers to report it. */
export const REPORT_OFFER_AFTER = 3;

/**
 * The last word on the stranger's video: pending (nothing classified yet),
 * safe, unsafe, or unavailable (the classifier could not be loaded: nothing
 * will ever say safe).
 */
export type Verdict = 'pending' | 'safe' | 'unsafe' | 'unavailable';

export interface Screening {
  /** The conversation these stills are from; null between conversations. */
  matchID: string | null;
  verdict: Verdict;
  /** The user chose to see the video anyway, until the next still is flagged after one that was not. */
  shownAnyway: boolean;
  /** Flagged stills in this conversation. */
  flagged: number;
  /** The last flagged still, as a report's frame (a JPEG data: URL), or null when it could not be encoded. */
  evidence: string | null;
}

export type ScreeningEvent =
  /** A new conversation (null: it ended; its flags are kept until the next one). */
  | { type: 'match'; matchID: string | null }
  /** One still of matchID's video was classified; evidence is that still encoded, for a report. */
  | { type: 'scores'; matchID: string; scores: Scores; thresholds: Thresholds; evidence: string | null }
  /** The classifier cannot be used on this page. */
  | { type: 'unavailable' }
  /** The protection was switched back on: what was seen before says nothing about now. */
  | { type: 'resume' }
  | { type: 'showAnyway' };

export const initialScreening: Screening = { matchID: null, verdict: 'pending', shownAnyway: false, flagged: 0, evidence: null };

export function nextScreening(state: Screening, event: ScreeningEvent): Screening {
  switch (event.type) {
    case 'match':
      // Between conversations the last one's count and still stay: it can be reported for a while after it ended.
      if (event.matchID === state.matchID || event.matchID === null) return state;
      return { ...initialScreening, matchID: event.matchID, verdict: state.verdict === 'unavailable' ? 'unavailable' : 'pending' };
    case 'unavailable':
      return state.verdict === 'unavailable' ? state : { ...state, verdict: 'unavailable' };
    case 'resume':
      return state.verdict === 'unavailable' ? state : { ...state, verdict: 'pending', shownAnyway: false };
    case 'showAnyway':
      return state.shownAnyway ? state : { ...state, shownAnyway: true };
    case 'scores': {
      if (event.matchID !== state.matchID || state.verdict === 'unavailable') return state; // a late still of an earlier stranger
      if (!isUnsafe(event.scores, event.thresholds)) return { ...state, verdict: 'safe' };
      // Crossing into unsafe (from safe, or from not known yet) blurs again, even after
      // Show anyway; a stranger who stays unsafe stays as the user chose to see them.
      const crossed = state.verdict !== 'unsafe';
      return {
        ...state,
        verdict: 'unsafe',
        shownAnyway: crossed ? false : state.shownAnyway,
        flagged: state.flagged + 1,
        evidence: event.evidence ?? state.evidence,
      };
    }
  }
}

/** Whether the video is blurred now: the protection is on, and nothing says safe, and the user did not choose to see it. */
export function isBlurred(state: Screening, protect: boolean): boolean {
  return protect && state.verdict !== 'safe' && !state.shownAnyway;
}

/** The one-click nudity report the page offers after REPORT_OFFER_AFTER flagged stills, with the last one as its frame. */
export interface ReportOffer {
  matchID: string;
  frame: string | null;
}

export function reportOffer(state: Screening): ReportOffer | null {
  if (!state.matchID || state.flagged < REPORT_OFFER_AFTER) return null;
  return { matchID: state.matchID, frame: state.evidence };
}
