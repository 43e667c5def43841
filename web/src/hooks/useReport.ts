import { useCallback, useEffect, useRef, useState } from 'react';
import { type ErrorCode, type ReportChatLine, type ReportReason, type ReportRequest } from '../protocol';
import { cleanNote, fitReport } from '../evidence';
import type { Signaling } from './useSignaling';
import type { ReportTarget } from './useLastPartner';

/** The evidence taken when the Report button was pressed, while the dialog is open. */
export interface ReportDraft {
  matchID: string;
  /** A JPEG data: URL of the stranger's video at that moment; null in text mode or without a picture. */
  frame: string | null;
  chat: ReportChatLine[];
}

export interface ReportChoice {
  reason: ReportReason;
  note: string;
}

/**
 * What the page says about the last report: sent (the server stored it), one of
 * the server's refusals, or expired (the page did not send it: that conversation
 * was over and the report would have been about someone else, or no one).
 */
export type ReportNotice = 'sent' | 'not_matched' | 'rate_limited' | 'bad_request' | 'unavailable' | 'failed' | 'expired';

export interface ReportState {
  draft: ReportDraft | null;
  /** Sent, waiting for reported or an error. */
  sending: boolean;
  notice: ReportNotice | null;
  /** This match was reported already (one report per match). */
  isReported: (matchID: string) => boolean;
  /** Opens the dialog with this evidence. */
  open: (draft: ReportDraft) => void;
  cancel: () => void;
  /**
   * Sends the open draft if target is still the match it is about; true when
   * sent (the caller then moves on, as Next does), false when it was not.
   */
  submit: (choice: ReportChoice, target: ReportTarget | null) => boolean;
  /** The same without the dialog: sends this draft with this choice now (the one-click nudity report). */
  sendNow: (draft: ReportDraft, choice: ReportChoice, target: ReportTarget | null) => boolean;
  dismissNotice: () => void;
  /** For useMatch: true when this server error answers the report just sent (and is worded here). */
  claimError: (code: ErrorCode) => boolean;
}

// The server's answers to a report: not that partner (any more), a second report of
// the match or too many an hour, bad evidence, the store unavailable; unknown_event:
// a server without reports.
const answers: Readonly<Partial<Record<ErrorCode, ReportNotice>>> = {
  not_matched: 'not_matched',
  rate_limited: 'rate_limited',
  bad_request: 'bad_request',
  unavailable: 'unavailable',
  unknown_event: 'failed',
};

/**
 * Reporting the stranger: the dialog's evidence, the report message, and the
 * server's answer (reported, or an error that arrives before any other answer
 * to it; the protocol's errors do not say which request they answer, and a
 * report is the only request this page has in flight that these can answer).
 */
export function useReport(signaling: Pick<Signaling, 'send' | 'subscribe'>): ReportState {
  const { send, subscribe } = signaling;
  const [draft, setDraft] = useState<ReportDraft | null>(null);
  const [sending, setSendingState] = useState(false);
  const [notice, setNotice] = useState<ReportNotice | null>(null);
  const [reportedID, setReportedID] = useState<string | null>(null);
  const sendingRef = useRef(false);
  const draftRef = useRef<ReportDraft | null>(null);

  const setSending = useCallback((value: boolean) => {
    sendingRef.current = value;
    setSendingState(value);
  }, []);

  useEffect(
    () =>
      subscribe((message) => {
        if (message.event !== 'reported' || !sendingRef.current) return;
        setSending(false);
        setNotice('sent');
      }),
    [subscribe, setSending],
  );

  const claimError = useCallback(
    (code: ErrorCode) => {
      const answer = answers[code];
      if (!sendingRef.current || !answer) return false;
      setSending(false);
      setNotice(answer);
      setReportedID(null); // not reported: the button comes back while that stranger can still be
      return true;
    },
    [setSending],
  );

  const open = useCallback((next: ReportDraft) => {
    draftRef.current = next;
    setDraft(next);
    setNotice(null);
  }, []);

  const cancel = useCallback(() => {
    draftRef.current = null;
    setDraft(null);
  }, []);

  const submit = useCallback(
    ({ reason, note }: ReportChoice, target: ReportTarget | null) => {
      const current = draftRef.current;
      if (!current) return false;
      draftRef.current = null;
      setDraft(null);
      if (target?.matchID !== current.matchID) {
        setNotice('expired');
        return false;
      }
      const data: ReportRequest = { reason, match_id: current.matchID };
      const cleaned = cleanNote(note);
      if (cleaned) data.note = cleaned;
      if (current.frame) data.frame = current.frame;
      if (current.chat.length > 0) data.chat = current.chat;
      send({ event: 'report', data: fitReport(data) });
      setReportedID(current.matchID);
      setSending(true);
      setNotice(null);
      return true;
    },
    [send, setSending],
  );

  const sendNow = useCallback(
    (next: ReportDraft, choice: ReportChoice, target: ReportTarget | null) => {
      draftRef.current = next;
      return submit(choice, target);
    },
    [submit],
  );

  const dismissNotice = useCallback(() => setNotice(null), []);
  const isReported = useCallback((matchID: string) => matchID === reportedID, [reportedID]);

  return { draft, sending, notice, isReported, open, cancel, submit, sendNow, dismissNotice, claimError };
}
