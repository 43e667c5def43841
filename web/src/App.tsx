import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Mode } from './protocol';
import { captureFrame as captureVideoFrame } from './evidence';
import { SOUND_SETTINGS, useAttention, type SoundSetting } from './hooks/useAttention';
import { useBan } from './hooks/useBan';
import { useCameraCheck } from './hooks/useCameraCheck';
import { useCallOutcome, type CallStatus, type CallTimeouts } from './hooks/useCallOutcome';
import { classifierSupported, defaultClassifierFactory, useClassifier } from './hooks/useClassifier';
import { useLanguage } from './hooks/useLanguage';
import { useSpokenLanguages } from './hooks/useSpokenLanguages';
import { useLastPartner, type ReportTarget } from './hooks/useLastPartner';
import { useEscapeNext } from './hooks/useEscapeNext';
import { useMatch, type MatchState, type SystemNotice } from './hooks/useMatch';
import { useMediaDevices, type DeviceKind } from './hooks/useMediaDevices';
import { useNudityScreening } from './hooks/useNudityScreening';
import { usePeerConnection } from './hooks/usePeerConnection';
import { usePictureHealth } from './hooks/usePictureHealth';
import { usePersistentChoice, usePersistentFlag } from './hooks/usePersistentFlag';
import { useProofOfWork } from './hooks/useProofOfWork';
import { useReport, type ReportChoice } from './hooks/useReport';
import { useRules } from './hooks/useRules';
import { useSelfCheck } from './hooks/useSelfCheck';
import { useShareMediaState } from './hooks/useShareMediaState';
import { useSignaling, type SignalingOptions, type SignalingStatus } from './hooks/useSignaling';
import { useTheme } from './hooks/useTheme';
import { useTranscript } from './hooks/useTranscript';
import { useUserMedia } from './hooks/useUserMedia';
import { useVisualViewport } from './hooks/useVisualViewport';
import { BannedNotice } from './components/BannedNotice';
import { ChatView } from './components/ChatView';
import type { ReportButton } from './components/Controls';
import type { DevicePickerProps } from './components/DevicePicker';
import { Landing } from './components/Landing';
import { ReportDialog } from './components/ReportDialog';
import { ReportNotice } from './components/ReportNotice';
import { RulesDialog } from './components/RulesDialog';
import type { StatusBarProps } from './components/StatusBar';
import { TopBar } from './components/TopBar';
import type { ClassifierFactory } from './nsfw/classifier';
import { BLUR_STORAGE_KEY, DEFAULT_NUDITY_CONFIG, type NudityConfig } from './nsfw/config';
import type { CameraPicture, PictureSampler } from './picture/sample';
import type { PowSolver } from './pow/solve';
import type { TranscriptWords } from './transcript';

export interface AppProps {
  signaling?: SignalingOptions;
  /** How long a video call may take to connect or to recover (tests shorten them). */
  callTimeouts?: Partial<CallTimeouts>;
  /** Plays the background-tab alert sound (tests). */
  playAlert?: () => void;
  /** Takes the report's still from the stranger's <video> (tests pass a fake). */
  captureFrame?: (video: HTMLVideoElement | null) => string | null;
  /** Solves the server's proof of work (default: altcha-lib in a worker; tests pass a fake). */
  solvePow?: PowSolver;
  /** Creates the nudity classifier (default: nsfwjs in a worker, where the browser can run it; tests pass a fake). */
  createClassifier?: ClassifierFactory;
  /** The nudity check's interval and thresholds (the browser tests' hook may change them). */
  nudity?: Partial<NudityConfig>;
  /** Stills for the nudity check and their encoding as a report's frame (tests pass fakes). */
  stills?: {
    remote?: (video: HTMLVideoElement, signal: AbortSignal) => Promise<ImageBitmap | null>;
    own?: (stream: MediaStream, signal: AbortSignal) => Promise<ImageBitmap | null>;
    encode?: (still: ImageBitmap) => string | null;
    /** Samples of the stranger's picture for the black or frozen check (null: none). */
    picture?: PictureSampler | null;
    /** Whether the user's own camera's picture is black, before Start. */
    cameraPicture?: (stream: MediaStream, signal: AbortSignal) => Promise<CameraPicture>;
  };
}

export const SOUNDS_STORAGE_KEY = 'gomegle.sounds';
/** "Hide my address from strangers" (localStorage): off unless the user turned it on. */
export const HIDE_ADDRESS_STORAGE_KEY = 'gomegle.hideAddress';
// Before sounds could also play in front, the setting was on ('1', in a background tab) or off ('0').
const LEGACY_SOUNDS: Record<string, SoundSetting> = { '1': 'background', '0': 'off' };
export { BLUR_STORAGE_KEY };

/**
 * The status line: what the user most needs to know right now. metRecently: the search
 * found only strangers met recently, and others are searching (so that is why it waits).
 * powProgress: the search waits for a slow proof of work (this address opens many
 * connections), which has tried this part of its range.
 */
export function describeStatus(
  socket: SignalingStatus,
  match: Pick<MatchState, 'phase' | 'mode'>,
  call: CallStatus,
  metRecently = false,
  powProgress: number | null = null,
): StatusBarProps {
  if (socket === 'reconnecting') return { text: 'reconnecting', detail: null, tone: 'warn' };
  if (socket === 'replaced') return { text: 'replaced', detail: null, tone: 'warn' };
  switch (match.phase) {
    case 'idle':
    case 'searching':
      if (match.phase === 'searching' && powProgress !== null) {
        return { text: 'searching', detail: 'powSlow', values: { percent: Math.floor(powProgress * 100) }, tone: 'info' };
      }
      return { text: 'searching', detail: metRecently ? 'metRecently' : null, tone: 'info' };
    case 'partner_left':
      return { text: 'partnerLeft', detail: null, tone: 'warn' };
    case 'matched': {
      if (match.mode === 'text') return { text: 'connected', detail: 'textChat', tone: 'ok' };
      switch (call) {
        case 'failed':
          return { text: 'videoFailed', detail: 'videoFailedDetail', tone: 'warn' };
        case 'recovering':
          return { text: 'connected', detail: 'recoveringVideo', tone: 'warn' };
        case 'connected':
          return { text: 'connected', detail: null, tone: 'ok' };
        case 'none':
        case 'connecting':
          return { text: 'connected', detail: 'startingVideo', tone: 'ok' };
      }
    }
  }
}

export function App({
  signaling: signalingOptions,
  callTimeouts,
  playAlert,
  captureFrame = captureVideoFrame,
  solvePow,
  createClassifier,
  nudity: nudityOptions,
  stills,
}: AppProps = {}) {
  const { t, i18n } = useTranslation();
  const language = useLanguage();
  const [theme, setTheme] = useTheme();
  useVisualViewport();
  const signaling = useSignaling(signalingOptions);
  // find_match goes through the proof-of-work gate; everything else straight to the socket.
  const gated = useProofOfWork(signaling, { solve: solvePow });
  const ban = useBan(signaling);
  const [autoNext, setAutoNext] = useState(false);
  const report = useReport(signaling);
  const match = useMatch(gated, { autoNext, claimError: report.claimError });
  const rules = useRules();
  const lastPartner = useLastPartner({ match: match.match, lines: match.lines });
  const remoteVideoRef = useRef<HTMLVideoElement | null>(null);
  const media = useUserMedia();
  const devices = useMediaDevices();
  useShareMediaState({ send: signaling.send, match: match.match, camera: media.videoEnabled, mic: media.audioEnabled });
  // Hiding the address takes a relay: where the server has none, calls go as usual (Landing says so).
  const [hideAddress, setHideAddress] = usePersistentFlag(HIDE_ADDRESS_STORAGE_KEY, false);
  const peer = usePeerConnection({
    signaling,
    match: match.match,
    iceServers: match.iceServers,
    localStream: media.stream,
    relayOnly: hideAddress && match.turn === true,
  });
  const call = useCallOutcome({ signaling, match: match.match, peer, timeouts: callTimeouts });
  const [sounds, setSounds] = usePersistentChoice(SOUNDS_STORAGE_KEY, SOUND_SETTINGS, 'background', LEGACY_SOUNDS);
  const [protect, setProtect] = usePersistentFlag(BLUR_STORAGE_KEY, true);

  // Nudity protection (README: privacy): the classifier is created by the first video
  // Start, never on the landing page or for text chats.
  const nudity = { ...DEFAULT_NUDITY_CONFIG, ...nudityOptions };
  const factory = useMemo(() => createClassifier ?? defaultClassifierFactory(nudity.backends), [createClassifier, nudity.backends]);
  const classifier = useClassifier(factory);
  const selfCheck = useSelfCheck({
    classifier: classifier.get,
    supported: createClassifier !== undefined || classifierSupported(),
    thresholds: nudity.thresholds,
    waitMs: nudity.selfCheckWaitMs,
    takeStill: stills?.own,
  });
  const screening = useNudityScreening({
    classifier: classifier.classifier,
    video: remoteVideoRef,
    stream: peer.remoteStream,
    matchID: match.match?.mode === 'video' ? match.match.match_id : null,
    protect,
    intervalMs: nudity.intervalMs,
    thresholds: nudity.thresholds,
    takeStill: stills?.remote,
    encode: stills?.encode,
  });
  // A black or frozen stranger (its camera on), said with Next at hand; sampled at the nudity check's cadence.
  const picture = usePictureHealth({
    video: remoteVideoRef,
    stream: peer.remoteStream,
    matchID: match.match?.mode === 'video' ? match.match.match_id : null,
    cameraOn: match.partnerMedia.camera,
    intervalMs: nudity.intervalMs,
    sampler: stills?.picture,
  });
  const cameraCheck = useCameraCheck({ checkPicture: stills?.cameraPicture });
  useAttention({
    title: t('app.title'),
    alertTitles: { connected: t('attention.connected'), message: t('attention.message') },
    matchID: match.match?.match_id ?? null,
    lastStrangerLine: match.lines.findLast((line) => line.from === 'stranger')?.id ?? null,
    sound: sounds,
    play: playAlert,
  });

  // Keeping the conversation: made in the browser, in the page's language.
  const transcriptWords = useCallback(
    (ended: Date, common: string[]): TranscriptWords => {
      const system: Record<SystemNotice, string> = {
        matched: t('chat.matched'),
        matchedRandom: t('chat.matchedRandom'),
        matchedLanguage: t('chat.matchedLanguage'),
        partner_left: t('chat.partnerLeft'),
      };
      return {
        heading: t('chat.transcriptHeading', { date: new Intl.DateTimeFormat(i18n.language, { dateStyle: 'long', timeStyle: 'short' }).format(ended) }),
        common: common.length > 0 ? `${t('chat.bothLike')} ${common.join(', ')}` : null,
        you: t('chat.you'),
        stranger: t('chat.stranger'),
        system: (notice) => system[notice],
      };
    },
    [t, i18n.language],
  );
  const transcript = useTranscript({ match: match.match, lines: match.lines, words: transcriptWords });

  const [interests, setInterests] = useState<string[]>([]);
  const spoken = useSpokenLanguages(language.language);
  const [mode, setMode] = useState<Mode>('video');
  const [starting, setStarting] = useState(false);
  const [checking, setChecking] = useState(false);
  const [rulesFor, setRulesFor] = useState<Mode | null>(null);
  const [remoteVolume, setRemoteVolume] = useState(1);
  const { start: startMatch, stop: stopMatch, next, phase } = match;
  const { request: requestMedia, release: releaseMedia, switchDevice } = media;
  const { replaceTrack } = peer;
  const { get: loadClassifier, release: releaseClassifier } = classifier;
  const { beforeFirstSearch } = selfCheck;
  const { beforeSearch: checkCamera } = cameraCheck;
  const { chosen: chosenDevices, choose: chooseDevice, refresh: refreshDevices } = devices;

  const start = useCallback(
    async (wanted: Mode) => {
      setMode(wanted);
      if (wanted === 'video') {
        setStarting(true);
        loadClassifier(); // the model loads while the camera starts
        const stream = await requestMedia(chosenDevices);
        void refreshDevices(); // allowed now: the devices have names
        if (!stream) {
          setStarting(false);
          return; // Landing shows why and offers text only
        }
        setChecking(true);
        // The nudity check (first Start only) and the black or virtual camera check, side by side.
        const verdicts = await Promise.all([beforeFirstSearch(stream), checkCamera(stream)]);
        setChecking(false);
        setStarting(false);
        if (verdicts.includes('warned')) return; // Landing shows the warning; Start again goes ahead
      } else {
        releaseMedia();
        releaseClassifier();
      }
      startMatch({ interests, mode: wanted, languages: spoken.languages, onlyLanguage: spoken.only });
    },
    [interests, spoken.languages, spoken.only, requestMedia, chosenDevices, refreshDevices, releaseMedia, startMatch, loadClassifier, releaseClassifier, beforeFirstSearch, checkCamera],
  );

  // A browser's first Start shows the rules; Start goes ahead once they are agreed to.
  const { agreed, agree } = rules;
  const requestStart = useCallback(
    (wanted: Mode) => {
      if (agreed) void start(wanted);
      else setRulesFor(wanted);
    },
    [agreed, start],
  );
  const agreeToRules = useCallback(() => {
    agree();
    const wanted = rulesFor;
    setRulesFor(null);
    if (wanted) void start(wanted);
  }, [agree, rulesFor, start]);
  const closeRules = useCallback(() => setRulesFor(null), []);

  const stop = useCallback(() => {
    stopMatch();
    releaseMedia();
  }, [stopMatch, releaseMedia]);

  // Choosing a camera or microphone: remembered, and during a chat the new device's track
  // replaces the old one in the call (no renegotiation).
  const pickDevice = useCallback(
    async (kind: DeviceKind, id: string) => {
      chooseDevice(kind, id);
      const track = await switchDevice(kind, id);
      if (track) await replaceTrack(track);
    },
    [chooseDevice, switchDevice, replaceTrack],
  );
  // Switch camera: the next camera of the device (front and rear on a phone).
  const { cameras } = devices;
  const cameraInUse = media.inUse.videoinput;
  const switchCamera = useCallback(() => {
    const at = cameras.findIndex((camera) => camera.id === cameraInUse);
    const next = cameras[(at + 1) % cameras.length];
    if (next) void pickDevice('videoinput', next.id);
  }, [cameras, cameraInUse, pickDevice]);
  // What the pickers show (once the browser names the devices): the one in use, else the one remembered.
  const devicePicker: DevicePickerProps | null =
    [...devices.cameras, ...devices.microphones].some((device) => device.label)
      ? {
          cameras: devices.cameras,
          microphones: devices.microphones,
          selected: {
            videoinput: media.inUse.videoinput ?? chosenDevices.videoinput,
            audioinput: media.inUse.audioinput ?? chosenDevices.audioinput,
          },
          onChoose: (kind, id) => void (media.stream ? pickDevice(kind, id) : chooseDevice(kind, id)),
        }
      : null;
  // Before the browser allowed the camera it names no device: asking is one click.
  const allowDevices = useCallback(async () => {
    const stream = await requestMedia(chosenDevices);
    await refreshDevices();
    if (stream) releaseMedia(); // the camera goes off again until Start
  }, [requestMedia, chosenDevices, refreshDevices, releaseMedia]);

  // The Report button: pressing it takes the evidence at that moment (the stranger's
  // video as it is now, the conversation's last lines) and opens the dialog.
  const { open: openReport, submit: submitReport } = report;
  const beginReport = useCallback(
    (target: ReportTarget) => {
      const frame = target.current && target.mode === 'video' ? captureFrame(remoteVideoRef.current) : null;
      openReport({ matchID: target.matchID, frame, chat: target.chat });
    },
    [captureFrame, openReport],
  );
  const sendReport = useCallback(
    (choice: ReportChoice) => {
      if (submitReport(choice, lastPartner)) next(); // reported: move on, as Next does
    },
    [submitReport, lastPartner, next],
  );
  // After repeatedly flagged stills: one click reports nudity with the last flagged still.
  const { sendNow: sendReportNow } = report;
  const offer = screening.offer;
  const canOffer = offer !== null && lastPartner?.matchID === offer.matchID && !report.isReported(offer.matchID);
  const reportNudity = useCallback(() => {
    if (!offer || lastPartner?.matchID !== offer.matchID) return;
    const draft = { matchID: offer.matchID, frame: offer.frame, chat: lastPartner.chat };
    if (sendReportNow(draft, { reason: 'nudity', note: '' }, lastPartner)) next();
  }, [offer, lastPartner, sendReportNow, next]);

  const reportButton: ReportButton | null =
    lastPartner && !report.isReported(lastPartner.matchID)
      ? { label: lastPartner.current ? 'report' : 'reportLast', onReport: () => beginReport(lastPartner) }
      : null;

  // Banned: nothing more happens on this page; the camera goes off.
  const banned = ban !== null;
  useEffect(() => {
    if (!banned) return;
    stopMatch();
    releaseMedia();
  }, [banned, stopMatch, releaseMedia]);

  // Esc: twice to skip a stranger, once when there is nobody to lose.
  const escArmed = useEscapeNext({ enabled: phase !== 'idle' && !banned, confirm: phase === 'matched', next, scope: match.match?.match_id ?? null });

  // While searching: how many others search in this mode, and whether the only ones the
  // search found were met recently (said only while someone else searches).
  const searchingNow = match.searching?.[match.mode];
  const othersSearching = searchingNow === undefined ? null : Math.max(0, searchingNow - 1);
  const metRecently = match.metRecently && othersSearching !== 0;

  const view =
    phase === 'idle' ? (
      <Landing
        interests={interests}
        mode={mode}
        busy={starting}
        checking={checking}
        selfWarning={selfCheck.warning}
        cameraWarning={mode === 'video' ? cameraCheck.problem : null}
        mediaError={media.error}
        cameraBlocked={devices.permission === 'denied'}
        devices={devicePicker}
        onAllowDevices={devicePicker ? null : () => void allowDevices()}
        hideAddress={{ on: hideAddress, available: match.turn, onChange: setHideAddress }}
        notice={match.notice}
        connection={signaling.status}
        report={reportButton}
        transcript={transcript}
        onInterests={setInterests}
        speaks={spoken}
        onMode={setMode}
        onStart={requestStart}
      />
    ) : (
      <ChatView
        phase={phase}
        mode={match.mode}
        status={describeStatus(signaling.status, match, call, metRecently, gated.powProgress)}
        call={call}
        notice={match.notice}
        othersSearching={othersSearching}
        localStream={media.stream}
        remoteStream={peer.remoteStream}
        mirrorLocal={media.mirrored}
        remoteVolume={remoteVolume}
        lines={match.lines}
        partnerTyping={match.partnerTyping}
        commonInterests={match.match?.common_interests ?? []}
        sharedLanguage={match.match?.language ?? null}
        audioEnabled={media.audioEnabled}
        videoEnabled={media.videoEnabled}
        partnerMedia={match.partnerMedia}
        canSwitchCamera={devices.cameras.length > 1}
        devices={devicePicker}
        escArmed={escArmed}
        report={reportButton}
        transcript={transcript}
        remoteVideoRef={remoteVideoRef}
        remoteShield={protect ? { blurred: screening.blurred, verdict: screening.verdict, onShow: screening.showAnyway } : null}
        pictureProblem={picture === 'ok' ? null : picture}
        onReportNudity={canOffer ? reportNudity : null}
        onDismissSelfWarning={selfCheck.warning ? selfCheck.dismiss : null}
        onNext={next}
        onStop={stop}
        onSend={match.sendChat}
        onTyping={match.setTyping}
        onToggleAudio={media.toggleAudio}
        onToggleVideo={media.toggleVideo}
        onSwitchCamera={switchCamera}
        onRemoteVolume={setRemoteVolume}
      />
    );

  return (
    <div className="app app-main">
      <TopBar
        online={match.online}
        offline={banned}
        language={language.language}
        languages={language.languages}
        sounds={sounds}
        protect={protect}
        autoNext={autoNext}
        theme={theme}
        onLanguage={language.setLanguage}
        onSounds={setSounds}
        onProtect={setProtect}
        onAutoNext={setAutoNext}
        onTheme={setTheme}
      />
      {ban ? (
        <BannedNotice ban={ban} />
      ) : (
        <>
          <ReportNotice notice={report.notice} onDismiss={report.dismissNotice} />
          {view}
          {rulesFor && <RulesDialog onAgree={agreeToRules} onCancel={closeRules} />}
          {report.draft && (
            <ReportDialog
              hasFrame={report.draft.frame !== null}
              chatLines={report.draft.chat.length}
              onSubmit={sendReport}
              onCancel={report.cancel}
            />
          )}
        </>
      )}
    </div>
  );
}
