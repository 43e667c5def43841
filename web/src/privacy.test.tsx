// "Hide my address from strangers" (issue 25, part 1) through the whole page: offered
// only when the server has a TURN relay (hello.turn), remembered, and then the call of
// every video match asks for relayed candidates only. What the browser then sends (no
// other candidate) is usePeerConnection's test; the real browsers' is e2e/privacy.spec.ts.
import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import { App, HIDE_ADDRESS_STORAGE_KEY } from './App';
import type { ServerMessage } from './protocol';
import { agreeToRules, fakeCameraStream, FakeRTCPeerConnection, FakeWebSocket, hello, installBrowserFakes } from './test/fakes';

const videoMatch = (match_id: string): ServerMessage => ({
  event: 'match_found',
  data: { partner_id: `p-${match_id}`, initiator: true, match_id, common_interests: [], mode: 'video' },
});

function setup(turn: boolean | undefined) {
  const user = userEvent.setup();
  const view = render(<App />, { reactStrictMode: true });
  const socket = () => FakeWebSocket.latest();
  act(() => socket().serverOpen());
  const sayHello = () => act(() => socket().serverSend(hello('me', turn === undefined ? {} : { turn })));
  const option = () => screen.queryByRole('checkbox', { name: 'Hide my address from strangers' });
  /** Starts a video chat, is matched, and returns the policy its peer connection was given. */
  const call = async (match_id: string) => {
    await user.click(screen.getByRole('button', { name: 'Start' }));
    act(() => socket().serverSend(videoMatch(match_id)));
    const pc = FakeRTCPeerConnection.instances.filter((p) => !p.closed).at(-1)!;
    return pc.config.iceTransportPolicy;
  };
  return { user, view, socket, sayHello, option, call };
}

describe('"Hide my address from strangers"', { timeout: 20_000 }, () => {
  beforeEach(() => {
    installBrowserFakes(async () => fakeCameraStream());
    agreeToRules();
  });

  it('is offered once hello says the server has TURN, for video chats only, saying what it costs', async () => {
    const page = setup(true);
    expect(page.option()).not.toBeInTheDocument(); // not known before hello
    page.sayHello();
    const option = page.option()!;
    expect(option).not.toBeChecked(); // off by default
    expect(option).toHaveAccessibleDescription(/never learns your IP address.*may be a little worse/);
    await page.user.click(screen.getByRole('radio', { name: 'Text only' }));
    expect(page.option()).not.toBeInTheDocument(); // a text chat reveals no address to the stranger
  });

  it('is not offered by a server without TURN (nor by an older one that does not say)', () => {
    for (const turn of [false, undefined]) {
      const page = setup(turn);
      page.sayHello();
      expect(page.option()).not.toBeInTheDocument();
      expect(screen.queryByTestId('hide-address-unavailable')).not.toBeInTheDocument();
      page.view.unmount();
    }
  });

  it('on: every video call asks for relayed candidates only; remembered; off again, calls are as usual', async () => {
    const page = setup(true);
    page.sayHello();
    await page.user.click(page.option()!);
    expect(window.localStorage.getItem(HIDE_ADDRESS_STORAGE_KEY)).toBe('1');
    expect(await page.call('m1')).toBe('relay');
    await page.user.click(screen.getByRole('button', { name: 'Next' }));
    act(() => page.socket().serverSend(videoMatch('m2')));
    expect(FakeRTCPeerConnection.instances.filter((p) => !p.closed).at(-1)!.config.iceTransportPolicy).toBe('relay');
    await page.user.click(screen.getByRole('button', { name: 'Stop' }));
    page.view.unmount();

    const again = setup(true);
    again.sayHello();
    expect(again.option()).toBeChecked();
    await again.user.click(again.option()!);
    expect(window.localStorage.getItem(HIDE_ADDRESS_STORAGE_KEY)).toBe('0');
    expect(await again.call('m3')).toBe('all');
  });

  it('remembered on, but this server has no relay: says the address cannot be hidden, and calls go as usual', async () => {
    window.localStorage.setItem(HIDE_ADDRESS_STORAGE_KEY, '1');
    const page = setup(false);
    page.sayHello();
    expect(page.option()).not.toBeInTheDocument();
    expect(screen.getByTestId('hide-address-unavailable')).toHaveTextContent('This server has no relay right now, so video chats cannot hide your address from strangers.');
    expect(await page.call('m1')).toBe('all');
  });
});
