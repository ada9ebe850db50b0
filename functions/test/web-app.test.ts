/**
 * The web app (web/) in real headless Chromium, served by the Firebase Hosting emulator, signed in through
 * the Firebase JS SDK against the Auth emulator, talking to a real gateway. Two browser contexts are two
 * people. Screenshots of every step: functions/test-artifacts/browser/two-people/.
 */
import { expect } from "chai";
import type { Browser, BrowserContext, Page } from "puppeteer-core";
import { HostingEmulator } from "../tools/hosting-emulator";
import { buildWebApp, byTestId, launchChromium, shownMessages, Steps, waitForCount, waitForText } from "./support/browser";
import { environment } from "./support/environment";
import { startGateway } from "./support/gateway";

async function signUp(page: Page, email: string, name: string): Promise<void> {
  await page.waitForSelector(byTestId("auth-email"));
  await page.type(byTestId("auth-email"), email);
  await page.type(byTestId("auth-password"), "secret-password");
  await page.type(byTestId("auth-name"), name);
  await page.click(byTestId("sign-up"));
  await waitForText(page, byTestId("state"), "online");
}

async function send(page: Page, text: string): Promise<void> {
  await page.type(byTestId("composer"), text);
  await page.keyboard.press("Enter");
}

describe("web app in a real browser", function () {
  this.timeout(120_000);
  let browser: Browser | undefined;
  let hosting: HostingEmulator | undefined;
  let web: { dir: string; remove(): void } | undefined;

  afterEach(async () => {
    await browser?.close();
    await hosting?.stop();
    web?.remove();
  });

  it("two people sign up, find each other by email, chat both ways with receipts and typing; one leaves and comes back to the missed messages, in order, once", async () => {
    const env = environment();
    const { url: gatewayUrl, gateway } = await startGateway();
    web = buildWebApp({ projectId: env.projectId, authEmulatorUrl: `http://${env.authHost}`, gatewayUrl });
    [hosting, browser] = await Promise.all([HostingEmulator.start({ publicDir: web.dir, projectId: env.projectId }), launchChromium()]);
    const steps = new Steps("two-people");
    const contexts: BrowserContext[] = [await browser.createBrowserContext(), await browser.createBrowserContext()];
    const alice = await contexts[0].newPage();
    let bob = await contexts[1].newPage();
    for (const page of [alice, bob]) await page.setViewport({ width: 1000, height: 640 });
    await Promise.all([alice.goto(hosting.url), bob.goto(hosting.url)]);

    await Promise.all([signUp(alice, "alice@talowa.test", "Alice"), signUp(bob, "bob@talowa.test", "Bob")]);
    await steps.shot("signed-up", { alice, bob });

    // Alice finds Bob by email and writes.
    await alice.click(byTestId("new-chat"));
    await alice.type(byTestId("chat-email"), "bob@talowa.test");
    await alice.click(byTestId("chat-start"));
    await waitForText(alice, byTestId("conversation-title"), "Bob");
    await send(alice, "Hi Bob, are you safe?");
    await waitForText(bob, `${byTestId("conversation")} ${byTestId("unread")}`, "1");
    await alice.waitForSelector(`${byTestId("status")}[data-state="delivered"]`);
    await steps.shot("delivered-unread", { alice, bob });

    // Bob opens it: Alice sees it read. Bob types: Alice sees it. Bob answers.
    await clickRerendered(bob, byTestId("conversation"));
    await waitForText(bob, byTestId("messages"), "Hi Bob, are you safe?");
    await alice.waitForSelector(`${byTestId("status")}[data-state="read"]`);
    await bob.type(byTestId("composer"), "Yes, at the shelter");
    await waitForText(alice, byTestId("typing"), "Bob is typing");
    await steps.shot("read-and-typing", { alice, bob });
    await bob.keyboard.press("Enter");
    await waitForText(alice, byTestId("messages"), "Yes, at the shelter");
    await alice.waitForSelector(`${byTestId("presence")}[data-status="online"]`);
    await steps.shot("reply", { alice, bob });

    // Bob closes the app; Alice sees him offline and writes three more.
    await bob.close();
    await alice.waitForSelector(`header ${byTestId("presence")}[data-status="offline"]`);
    for (const text of ["Water is rising on Main St", "Stay on the second floor", "Help is on the way"]) await send(alice, text);
    await waitForCount(alice, `${byTestId("messages")} ${byTestId("status")}`, 4);
    await steps.shot("bob-away", { alice });

    // Bob comes back (same browser profile: still signed in) and finds everything, in order, once.
    bob = await contexts[1].newPage();
    await bob.setViewport({ width: 1000, height: 640 });
    await bob.goto(hosting.url);
    await waitForText(bob, byTestId("state"), "online");
    await waitForText(bob, `${byTestId("conversation")} ${byTestId("unread")}`, "3");
    await clickRerendered(bob, byTestId("conversation"));
    await waitForText(bob, byTestId("messages"), "Help is on the way");
    await new Promise((r) => setTimeout(r, 500)); // anything doubled would have arrived by now
    await steps.shot("bob-back", { alice, bob });
    const bobSees = await shownMessages(bob);
    await waitForCount(alice, `${byTestId("status")}[data-state="read"]`, 4);

    // An emergency broadcast reaches both as a banner.
    void gateway.deliverBroadcast({ id: "b-1", title: "Flood warning", body: "Move to higher ground now.", priority: "critical", senderId: "admin", createdAt: Date.now() });
    await Promise.all([waitForText(alice, byTestId("banner-title"), "Flood warning"), waitForText(bob, byTestId("banner-title"), "Flood warning")]);
    await steps.shot("emergency", { alice, bob });

    expect(bobSees).to.deep.equal(["Hi Bob, are you safe?", "Yes, at the shelter", "Water is rising on Main St", "Stay on the second floor", "Help is on the way"]);
    expect(await shownMessages(alice)).to.deep.equal(bobSees);
  });
});

/** The conversation list re-renders as unread counts and presence arrive: a click can hit a node just replaced; find it again. */
async function clickRerendered(page: Page, selector: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await page.click(selector);
    } catch (error) {
      if (attempt >= 10 || !/detached/i.test(String(error))) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
