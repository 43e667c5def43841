// Test doubles for the browser APIs jsdom lacks: WebSocket (driven by the
// test), RTCPeerConnection and getUserMedia (recording what the app did).
import { RULES_STORAGE_KEY, RULES_VERSION } from '../hooks/useRules';
import type { ClientMessage, ServerMessage } from '../protocol';

type Listener = (event: any) => void;

class Emitter {
  private listeners = new Map<string, Set<Listener>>();
  addEventListener(type: string, listener: Listener, options?: { signal?: AbortSignal }) {
    if (options?.signal?.aborted) return;
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
    options?.signal?.addEventListener('abort', () => set.delete(listener));
  }
  removeEventListener(type: string, listener: Listener) {
    this.listeners.get(type)?.delete(listener);
  }
  emit(type: string, event: any) {
    for (const listener of [...(this.listeners.get(type) ?? [])]) listener(event);
  }
  listenerCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}

export class FakeWebSocket extends Emitter {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static instances: FakeWebSocket[] = [];

  readyState = FakeWebSocket.CONNECTING;
  sent: ClientMessage[] = [];
  closeCode: number | undefined;

  constructor(public url: string) {
    super();
    FakeWebSocket.instances.push(this);
  }

  static reset() {
    FakeWebSocket.instances = [];
  }
  static latest(): FakeWebSocket {
    const socket = FakeWebSocket.instances.at(-1);
    if (!socket) throw new Error('no socket opened');
    return socket;
  }

  send(frame: string) {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(frame) as ClientMessage);
  }
  close(code?: number) {
    if (this.readyState === FakeWebSocket.CLOSED) return;
    this.closeCode = code;
    this.readyState = FakeWebSocket.CLOSED;
    this.emit('close', { code: code ?? 1005 });
  }

  // Driven by the test: the server side.
  serverOpen() {
    this.readyState = FakeWebSocket.OPEN;
    this.emit('open', {});
  }
  serverSend(message: ServerMessage) {
    this.emit('message', { data: JSON.stringify(message) });
  }
  serverClose(code: number) {
    this.readyState = FakeWebSocket.CLOSED;
    this.emit('close', { code });
  }
  sentEvents(event: ClientMessage['event']): ClientMessage[] {
    return this.sent.filter((message) => message.event === event);
  }
}

export class FakeMediaStreamTrack {
  enabled = true;
  stopped = false;
  /** The device's name, as a browser gives it once the camera is allowed. */
  label = '';
  constructor(
    public kind: 'audio' | 'video',
    /** Which way the camera faces (front: user, rear: environment). */
    public facingMode?: string,
    /** The device it is from. */
    public deviceId?: string,
  ) {}
  stop() {
    this.stopped = true;
  }
  getSettings(): MediaTrackSettings {
    return { ...(this.deviceId ? { deviceId: this.deviceId } : {}), ...(this.facingMode ? { facingMode: this.facingMode } : {}) };
  }
}

export class FakeMediaStream {
  constructor(private tracks: FakeMediaStreamTrack[] = []) {}
  getTracks() {
    return this.tracks;
  }
  getAudioTracks() {
    return this.tracks.filter((track) => track.kind === 'audio');
  }
  getVideoTracks() {
    return this.tracks.filter((track) => track.kind === 'video');
  }
}

export function fakeCameraStream(): FakeMediaStream {
  return new FakeMediaStream([new FakeMediaStreamTrack('audio'), new FakeMediaStreamTrack('video')]);
}

export class FakeRTCRtpSender {
  replaced: FakeMediaStreamTrack[] = [];
  constructor(public track: FakeMediaStreamTrack | null) {}
  async replaceTrack(track: FakeMediaStreamTrack | null) {
    if (track) this.replaced.push(track);
    this.track = track;
  }
}

/** getStats() reports of a connection whose selected pair's local end is of this type. */
export function statsWithSelectedLocal(candidateType: string): Map<string, Record<string, unknown>> {
  return new Map<string, Record<string, unknown>>([
    ['T1', { id: 'T1', type: 'transport', selectedCandidatePairId: 'CP1' }],
    ['CP1', { id: 'CP1', type: 'candidate-pair', localCandidateId: 'L1', remoteCandidateId: 'R1', state: 'succeeded', nominated: true }],
    ['CP2', { id: 'CP2', type: 'candidate-pair', localCandidateId: 'L2', remoteCandidateId: 'R1', state: 'failed' }],
    ['L1', { id: 'L1', type: 'local-candidate', candidateType }],
    ['L2', { id: 'L2', type: 'local-candidate', candidateType: 'host' }],
    ['R1', { id: 'R1', type: 'remote-candidate', candidateType: 'host' }],
  ]);
}

export class FakeRTCPeerConnection extends Emitter {
  static instances: FakeRTCPeerConnection[] = [];
  static reset() {
    FakeRTCPeerConnection.instances = [];
  }

  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  connectionState: RTCPeerConnectionState = 'new';
  closed = false;
  addedTracks: unknown[] = [];
  senders: FakeRTCRtpSender[] = [];
  /** What getStats() resolves to: reports by id. */
  stats = new Map<string, Record<string, unknown>>();
  candidates: RTCIceCandidateInit[] = [];
  /** Everything the app did, in order, to check ordering (e.g. candidates after the remote description). */
  calls: string[] = [];

  constructor(public config: RTCConfiguration) {
    super();
    FakeRTCPeerConnection.instances.push(this);
  }
  addTrack(track: unknown) {
    this.addedTracks.push(track);
    const sender = new FakeRTCRtpSender(track as FakeMediaStreamTrack);
    this.senders.push(sender);
    return sender;
  }
  getSenders() {
    return this.senders;
  }
  async getStats() {
    return this.stats;
  }
  addTransceiver(kind: string) {
    this.calls.push(`transceiver:${kind}`);
  }
  async createOffer(options?: RTCOfferOptions) {
    this.calls.push(options?.iceRestart ? 'createOffer:iceRestart' : 'createOffer');
    return { type: 'offer' as const, sdp: 'offer-sdp' };
  }
  async createAnswer() {
    this.calls.push('createAnswer');
    return { type: 'answer' as const, sdp: 'answer-sdp' };
  }
  async setLocalDescription(description: RTCSessionDescriptionInit) {
    this.calls.push(`setLocal:${description.type}`);
    this.localDescription = description;
  }
  async setRemoteDescription(description: RTCSessionDescriptionInit) {
    this.calls.push(`setRemote:${description.type}`);
    // Resolves a tick later, like a real one: candidates may arrive meanwhile.
    await Promise.resolve();
    this.remoteDescription = description;
  }
  async addIceCandidate(candidate: RTCIceCandidateInit) {
    if (!this.remoteDescription) throw new Error('addIceCandidate before the remote description');
    this.calls.push(`candidate:${candidate.candidate}`);
    this.candidates.push(candidate);
  }
  close() {
    this.closed = true;
    this.connectionState = 'closed';
  }

  // Driven by the test.
  fireConnectionState(state: RTCPeerConnectionState) {
    this.connectionState = state;
    this.emit('connectionstatechange', {});
  }
  fireTrack(stream: unknown) {
    this.emit('track', { streams: [stream], track: {} });
  }
  fireCandidate(candidate: string) {
    this.emit('icecandidate', { candidate: { toJSON: () => ({ candidate, sdpMid: '0' }) } });
  }
}

/** navigator.mediaDevices with a test-driven getUserMedia and a number of cameras and microphones. */
export class FakeMediaDevices extends Emitter {
  constructor(
    public getUserMedia: (constraints?: MediaStreamConstraints) => Promise<unknown>,
    public cameras = 1,
    public microphones = 1,
    /** The browser names its devices (it allowed the camera before); otherwise labels are empty. */
    public labelled = true,
  ) {
    super();
  }
  async enumerateDevices() {
    const list = (kind: string, count: number, name: string) =>
      Array.from({ length: count }, (_, i) => ({ kind, deviceId: `${name}-${i}`, label: this.labelled ? `Fake ${name} ${i}` : '' }));
    return [...list('videoinput', this.cameras, 'camera'), ...list('audioinput', this.microphones, 'microphone')];
  }
}

/** The device a constraint asks for (deviceId, exact or ideal), else the first of its kind. */
export function deviceOf(constraint: MediaTrackConstraints | boolean | undefined, first: string): string {
  const id = typeof constraint === 'object' ? constraint.deviceId : undefined;
  if (typeof id === 'string') return id;
  if (id && typeof id === 'object' && !Array.isArray(id)) return String(id.exact ?? id.ideal ?? first);
  return first;
}

/** A getUserMedia that opens the devices asked for: tracks named by their device ids (camera-0, microphone-0…). */
export function deviceGetUserMedia(constraints?: MediaStreamConstraints): Promise<unknown> {
  const tracks: FakeMediaStreamTrack[] = [];
  if (constraints?.audio) tracks.push(new FakeMediaStreamTrack('audio', undefined, deviceOf(constraints.audio, 'microphone-0')));
  if (constraints?.video) tracks.push(new FakeMediaStreamTrack('video', undefined, deviceOf(constraints.video, 'camera-0')));
  return Promise.resolve(new FakeMediaStream(tracks));
}

/** Installs the fakes on globalThis; returns navigator.mediaDevices. */
export function installBrowserFakes(
  getUserMedia: (constraints?: MediaStreamConstraints) => Promise<unknown>,
  options: { cameras?: number; microphones?: number; labelled?: boolean } = {},
): FakeMediaDevices {
  FakeWebSocket.reset();
  FakeRTCPeerConnection.reset();
  Object.assign(globalThis, {
    WebSocket: FakeWebSocket,
    RTCPeerConnection: FakeRTCPeerConnection,
    MediaStream: FakeMediaStream,
  });
  const mediaDevices = new FakeMediaDevices(getUserMedia, options.cameras, options.microphones, options.labelled);
  Object.defineProperty(navigator, 'mediaDevices', { configurable: true, value: mediaDevices });
  // jsdom has no media playback; VideoTile only assigns srcObject.
  Object.defineProperty(HTMLMediaElement.prototype, 'srcObject', {
    configurable: true,
    get() {
      return (this as any)._srcObject ?? null;
    },
    set(value) {
      (this as any)._srcObject = value;
    },
  });
  return mediaDevices;
}

export function hello(id: string, extra: Partial<Extract<ServerMessage, { event: 'hello' }>['data']> = {}): ServerMessage {
  return {
    event: 'hello',
    data: { id, resume_token: `token-${id}`, online: 2, ice_servers: [], resumed: false, ...extra },
  };
}

/**
 * This browser agreed to the current rules (as the rules dialog remembers it), so a
 * test that presses Start goes straight to the search; the rules' own tests leave it out.
 */
export function agreeToRules() {
  window.localStorage.setItem(RULES_STORAGE_KEY, String(RULES_VERSION));
}
