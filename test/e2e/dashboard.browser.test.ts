/**
 * The clinician dashboard in headless Chromium (Debian's package, never a
 * downloaded browser) shows a live value pushed from an emulated gateway.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { type RunningSystem, startSystem } from '../../scripts/system.ts';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

describe('clinician dashboard in a browser', () => {
  let system: RunningSystem;
  let browser: Browser;
  let dataDir: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-browser-'));
    system = await startSystem({
      dataDir,
      patients: [{ gatewayId: 'gw-web-01', patientId: 'web-001', displayName: 'Web Patient', bed: '7', scenario: 'stable.json' }],
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await system?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows the patient and a live heart rate and SpO2', async () => {
    const page = await browser.newPage();
    await page.goto(system.dashboardUrl);
    const card = page.locator('article.patient[data-patient-id="web-001"]');
    await card.waitFor({ timeout: 15_000 });
    assert.equal(await card.locator('.name').textContent(), 'Web Patient');
    await page.waitForFunction(
      () => {
        const hr = document.querySelector('[data-patient-id="web-001"] [data-testid="hr"]')?.textContent ?? '';
        const spo2 = document.querySelector('[data-patient-id="web-001"] [data-testid="spo2"]')?.textContent ?? '';
        return /^\d+$/.test(hr) && /^\d+$/.test(spo2);
      },
      undefined,
      { timeout: 90_000 },
    );
    const hr = Number(await card.locator('[data-testid="hr"]').textContent());
    assert.ok(hr >= 60 && hr <= 85, `HR on the page: ${hr}`);
    assert.equal(await page.locator('#connection').getAttribute('data-state'), 'open');
  });

  it('drops a patient from the screen when the gateway moves to a patient this viewer may not see', async () => {
    const page = await browser.newPage();
    await page.goto(system.dashboardUrl);
    const card = page.locator('article.patient[data-patient-id="web-001"]');
    await card.waitFor({ timeout: 15_000 });
    const response = await fetch(new URL('/api/v1/admin/gateways/gw-web-01/patient', system.relay.httpUrl), {
      method: 'PUT',
      headers: { authorization: `Bearer ${system.relay.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ patientId: 'web-999', displayName: 'Someone Else', bed: '9' }),
    });
    assert.equal(response.status, 200);
    await card.waitFor({ state: 'detached', timeout: 15_000 });
    assert.equal(await page.locator('article.patient').count(), 0);
    assert.equal(await page.locator('#empty').isVisible(), true);
    // The new patient's vitals keep flowing at the relay, and none of them reach this page.
    await page.waitForTimeout(2000);
    assert.equal(await page.getByText('Someone Else').count(), 0);
  });

  it('refuses a page without a valid viewer token', async () => {
    const page = await browser.newPage();
    await page.goto(system.dashboardUrl.replace(/token=[^&]+/, 'token=not-a-token'));
    await page.waitForTimeout(1500);
    assert.equal(await page.locator('article.patient').count(), 0);
    assert.notEqual(await page.locator('#connection').getAttribute('data-state'), 'open');
  });
});
