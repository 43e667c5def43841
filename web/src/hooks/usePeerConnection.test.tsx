import { act, renderHook, waitFor } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { fakeCameraStream, FakeMediaStreamTrack, FakeRTCPeerConnection, FakeWebSocket, installBrowserFakes, statsWithSelectedLocal } from '../test/fakes';
import type { MatchInfo, ServerMessage } from '../protocol';
import { useSignaling } from './useSignaling';
import { candidateType, relayCandidatesOnly, usePeerConnection } from './usePeerConnection';

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

function setup(initial: MatchInfo | null, iceServers: RTCIceServer[] = [], relayOnly?: boolean) {
  const stream = fakeCameraStream() as unknown as MediaStream;
  const hook = renderHook(
    ({ match }) => {
      const signaling = useSignaling();
      return usePeerConnection({ signaling, match, iceServers, localStream: stream, relayOnly });
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

  describe('"Hide my address from strangers" (relayOnly)', () => {
    const host = 'candidate:1 1 udp 2122260223 192.168.1.20 54321 typ host generation 0';
    const srflx = 'candidate:2 1 udp 1686052607 203.0.113.7 54321 typ srflx raddr 192.168.1.20 rport 54321 generation 0';
    const relay = 'candidate:3 1 udp 41885439 198.51.100.9 50000 typ relay raddr 203.0.113.7 rport 54321 generation 0';
    const sdp = ['v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', `a=${host}`, `a=${srflx}`, `a=${relay}`, 'a=mid:0', ''].join('\r\n');

    it('reads the type of a candidate line', () => {
      expect([host, srflx, relay, `a=${relay}`, 'candidate:4 1 udp 1 10.0.0.1 9 typ prflx', ''].map(candidateType)).toEqual([
        'host',
        'srflx',
        'relay',
        'relay',
        'prflx',
        null,
      ]);
    });

    it('keeps only relayed candidates in an SDP, and every other line as it was', () => {
      expect(relayCandidatesOnly(sdp)).toBe(['v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', `a=${relay}`, 'a=mid:0', ''].join('\r\n'));
      expect(relayCandidatesOnly(sdp.replaceAll('\r\n', '\n'))).toBe(relayCandidatesOnly(sdp).replaceAll('\r\n', '\n'));
    });

    it('asks for relayed candidates only, and sends no other candidate, neither alone nor in its answer', async () => {
      const { socket } = setup(video(), [{ urls: ['turn:198.51.100.9:3478'], username: 'u', credential: 'c' }], true);
      const [pc] = livePC();
      expect(pc.config.iceTransportPolicy).toBe('relay');
      pc.createAnswer = async () => ({ type: 'answer' as const, sdp });
      act(() => {
        pc.fireCandidate(host);
        pc.fireCandidate(srflx);
        pc.fireCandidate(relay);
        socket.serverSend(signal('offer', { type: 'offer', sdp: 'o' }));
      });
      await waitFor(() => expect(socket.sentEvents('signal').some((m) => m.event === 'signal' && m.data.type === 'answer')).toBe(true));
      const sent = socket.sentEvents('signal').map((m) => (m.event === 'signal' ? m.data : null));
      expect(sent.filter((data) => data?.type === 'candidate').map((data) => (data!.payload as { candidate: string }).candidate)).toEqual([relay]);
      const answer = sent.find((data) => data?.type === 'answer')!.payload as { sdp: string };
      expect(answer.sdp).not.toMatch(/typ (host|srflx)/);
      expect(answer.sdp).toContain(relay);
    });

    it('off (the default): every candidate goes, and the policy is the browser\'s usual one', async () => {
      const { socket } = setup(video());
      const [pc] = livePC();
      expect(pc.config.iceTransportPolicy).toBe('all');
      act(() => {
        pc.fireCandidate(host);
        pc.fireCandidate(relay);
      });
      expect(socket.sentEvents('signal').map((m) => (m.event === 'signal' ? (m.data.payload as { candidate: string }).candidate : null))).toEqual([host, relay]);
    });
  });
});
