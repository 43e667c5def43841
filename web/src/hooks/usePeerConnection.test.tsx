import { act, renderHook, waitFor } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { fakeCameraStream, FakeMediaStreamTrack, FakeRTCPeerConnection, FakeWebSocket, installBrowserFakes, statsWithSelectedLocal } from '../test/fakes';
import type { MatchInfo, ServerMessage } from '../protocol';
import { useSignaling } from './useSignaling';
import { usePeerConnection } from './usePeerConnection';

const video = (overrides: Partial<MatchInfo> = {}): MatchInfo => ({
  partner_id: 'stranger',
  match_id: 'm1',
  initiator: false,
  mode: 'video',
  common_interests: [],
  ...overrides,
});

const signal = (type: string, payload: unknown, sender = 'stranger'): ServerMessage => ({
  event: 'signal',
  data: { sender_id: sender, type, payload },
});

function setup(initial: MatchInfo | null, iceServers: RTCIceServer[] = []) {
  const stream = fakeCameraStream() as unknown as MediaStream;
  const hook = renderHook(
    ({ match }) => {
      const signaling = useSignaling();
      return usePeerConnection({ signaling, match, iceServers, localStream: stream });
    },
    { initialProps: { match: initial }, reactStrictMode: true },
  );
  const socket = FakeWebSocket.instances.find((s) => s.readyState !== FakeWebSocket.CLOSED)!;
  act(() => socket.serverOpen());
  return { ...hook, socket, stream };
}

const livePC = () => FakeRTCPeerConnection.instances.filter((pc) => !pc.closed);

describe('usePeerConnection', () => {
  beforeEach(() => installBrowserFakes(() => Promise.reject(new Error('unused'))));

  it('creates no connection without a video match', () => {
    setup(null);
    setup(video({ mode: 'text' }));
    expect(FakeRTCPeerConnection.instances).toHaveLength(0);
  });

  it('as initiator adds the local tracks, offers once, and uses the server ICE servers', async () => {
    const servers = [{ urls: ['turn:127.0.0.1:3478'], username: 'u', credential: 'c' }];
    const { socket } = setup(video({ initiator: true }), servers);
    const [pc] = livePC();
    expect(livePC()).toHaveLength(1); // StrictMode's first connection was closed
    expect(pc.config.iceServers).toEqual(servers);
    expect(pc.addedTracks).toHaveLength(2);
    await waitFor(() => expect(socket.sentEvents('signal')).toHaveLength(1));
    expect(socket.sent[0]).toEqual({ event: 'signal', data: { type: 'offer', payload: { type: 'offer', sdp: 'offer-sdp' } } });

    act(() => socket.serverSend(signal('answer', { type: 'answer', sdp: 'a' })));
    await waitFor(() => expect(pc.remoteDescription).toEqual({ type: 'answer', sdp: 'a' }));
  });

  it('queues candidates that arrive before the offer and applies them after it', async () => {
    const { socket } = setup(video({ initiator: false }));
    const [pc] = livePC();
    act(() => {
      socket.serverSend(signal('candidate', { candidate: 'c1', sdpMid: '0' }));
      socket.serverSend(signal('offer', { type: 'offer', sdp: 'o' }));
      socket.serverSend(signal('candidate', { candidate: 'c2', sdpMid: '0' }));
    });
    await waitFor(() => expect(socket.sentEvents('signal')).toHaveLength(1));
    expect(socket.sent[0]).toEqual({ event: 'signal', data: { type: 'answer', payload: { type: 'answer', sdp: 'answer-sdp' } } });
    await waitFor(() => expect(pc.candidates.map((c) => c.candidate)).toEqual(['c1', 'c2']));
    expect(pc.calls.indexOf('setRemote:offer')).toBeLessThan(pc.calls.indexOf('candidate:c1'));
  });

  it('replays signals that came before the connection existed, and ignores other senders', async () => {
    const { socket, rerender } = setup(null);
    act(() => {
      socket.serverSend(signal('offer', { type: 'offer', sdp: 'stale' }, 'someone-else'));
      socket.serverSend(signal('offer', { type: 'offer', sdp: 'early' }));
    });
    rerender({ match: video() });
    const [pc] = livePC();
    await waitFor(() => expect(pc.remoteDescription).toEqual({ type: 'offer', sdp: 'early' }));
    expect(pc.calls.filter((call) => call === 'setRemote:offer')).toHaveLength(1);
  });

  it('sends its own candidates, reports state and the remote stream, and closes when the match ends', async () => {
    const { socket, result, rerender } = setup(video());
    const [pc] = livePC();
    act(() => {
      pc.fireCandidate('mine');
      pc.fireTrack('remote-stream');
      pc.fireConnectionState('connected');
    });
    expect(socket.sent).toContainEqual({ event: 'signal', data: { type: 'candidate', payload: { candidate: 'mine', sdpMid: '0' } } });
    expect(result.current.remoteStream).toBe('remote-stream');
    expect(result.current.connectionState).toBe('connected');

    rerender({ match: null });
    expect(pc.closed).toBe(true);
    expect(result.current.remoteStream).toBeNull();
    expect(result.current.connectionState).toBe('none');
  });

  it('as initiator restarts ICE when the connection fails', async () => {
    const { socket } = setup(video({ initiator: true }));
    const [pc] = livePC();
    await waitFor(() => expect(socket.sentEvents('signal')).toHaveLength(1));
    act(() => pc.fireConnectionState('failed'));
    await waitFor(() => expect(socket.sentEvents('signal')).toHaveLength(2));
    expect(pc.calls).toContain('createOffer:iceRestart');
  });

  it('keeps the connection when the same match is resumed', () => {
    const { rerender } = setup(video());
    const [pc] = livePC();
    rerender({ match: video({ common_interests: ['x'] }) }); // new object, same match id
    expect(pc.closed).toBe(false);
    expect(livePC()).toEqual([pc]);
  });

  it('replaces the sent track of its kind on the same sender (another camera or microphone), without renegotiating', async () => {
    const { result, socket } = setup(video({ initiator: true }));
    const [pc] = livePC();
    await waitFor(() => expect(socket.sentEvents('signal')).toHaveLength(1));
    const rear = new FakeMediaStreamTrack('video', 'environment');
    let replaced = false;
    await act(async () => {
      replaced = await result.current.replaceTrack(rear as unknown as MediaStreamTrack);
    });
    expect(replaced).toBe(true);
    const videoSender = pc.senders.find((sender) => sender.track?.kind === 'video')!;
    const audioSender = pc.senders.find((sender) => sender.track?.kind === 'audio')!;
    expect(videoSender.replaced).toEqual([rear]);
    expect(audioSender.replaced).toEqual([]);
    const headset = new FakeMediaStreamTrack('audio');
    await act(async () => {
      replaced = await result.current.replaceTrack(headset as unknown as MediaStreamTrack);
    });
    expect(replaced).toBe(true);
    expect(audioSender.replaced).toEqual([headset]);
    expect(videoSender.replaced).toEqual([rear]);
    expect(pc.calls.filter((call) => call.startsWith('createOffer'))).toHaveLength(1);
  });

  it('reads the local candidate type of the selected pair; none without a connection', async () => {
    const { result, rerender } = setup(video());
    const [pc] = livePC();
    pc.stats = statsWithSelectedLocal('srflx');
    await expect(result.current.localCandidateType()).resolves.toBe('srflx');
    rerender({ match: null });
    await expect(result.current.localCandidateType()).resolves.toBeNull();
    await expect(result.current.replaceTrack(new FakeMediaStreamTrack('video') as unknown as MediaStreamTrack)).resolves.toBe(false);
  });
});
