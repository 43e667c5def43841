import { describe, expect, it } from 'vitest';
import { normaliseInterest, parseServerMessage } from './protocol';
import { backoffDelay, socketURL } from './hooks/useSignaling';
import { toRTCIceServers } from './hooks/useMatch';

describe('parseServerMessage', () => {
  it.each([
    ['hello', '{"event":"hello","data":{"id":"a","resume_token":"t","online":1,"ice_servers":[],"resumed":false}}'],
    ['match_found', '{"event":"match_found","data":{"partner_id":"b","initiator":true,"match_id":"m","common_interests":null,"mode":"video"}}'],
    ['error', '{"event":"error","data":{"code":"bad_json","message":"x"}}'],
  ])('accepts %s', (event, frame) => {
    expect(parseServerMessage(frame)?.event).toBe(event);
  });

  it.each([
    ['not JSON', '{nope'],
    ['an unknown event', '{"event":"surprise","data":{}}'],
    ['a missing data object', '{"event":"chat"}'],
    ['a JSON array', '[1,2]'],
    ['a binary frame', new ArrayBuffer(2)],
  ])('rejects %s', (_name, frame) => {
    expect(parseServerMessage(frame)).toBeNull();
  });
});

describe('normaliseInterest', () => {
  it.each([
    ['  Music ', 'music'],
    ['', null],
    ['   ', null],
    ['x'.repeat(40), 'x'.repeat(32)],
  ])('%j → %j', (raw, want) => {
    expect(normaliseInterest(raw)).toBe(want);
  });
});

describe('socketURL', () => {
  it('uses ws on http and wss on https, same host', () => {
    expect(socketURL({ protocol: 'http:', host: 'localhost:8080' })).toBe('ws://localhost:8080/ws');
    expect(socketURL({ protocol: 'https:', host: 'chat.example' })).toBe('wss://chat.example/ws');
  });
});

describe('backoffDelay', () => {
  it('doubles from the base and stops at the cap', () => {
    const mid = () => 0.5; // no jitter
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, 500, 4000, mid))).toEqual([500, 1000, 2000, 4000, 4000]);
  });
  it('jitters within ±25 %', () => {
    expect(backoffDelay(0, 1000, 10_000, () => 0)).toBe(750);
    expect(backoffDelay(0, 1000, 10_000, () => 1)).toBe(1250);
  });
});

describe('toRTCIceServers', () => {
  it('passes the server list through and tolerates null', () => {
    expect(toRTCIceServers(null)).toEqual([]);
    expect(toRTCIceServers([{ urls: ['turn:127.0.0.1:3478'], username: 'u', credential: 'c' }])).toEqual([
      { urls: ['turn:127.0.0.1:3478'], username: 'u', credential: 'c' },
    ]);
    expect(toRTCIceServers([{ urls: ['stun:127.0.0.1:3478'] }])).toEqual([{ urls: ['stun:127.0.0.1:3478'] }]);
  });
});
