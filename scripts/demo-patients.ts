/** The three emulated patients the start command brings up. */
export interface DemoPatient {
  gatewayId: string;
  patientId: string;
  displayName: string;
  bed: string;
  /** Emulator scenario: a file name under firmware-bridge/scenarios/, or an absolute path. */
  scenario: string;
}

export const DEMO_PATIENTS: readonly DemoPatient[] = [
  { gatewayId: 'gw-bed-01', patientId: 'demo-001', displayName: 'A. Adams', bed: '1', scenario: 'stable.json' },
  { gatewayId: 'gw-bed-02', patientId: 'demo-002', displayName: 'B. Brown', bed: '2', scenario: 'desaturation.json' },
  { gatewayId: 'gw-bed-03', patientId: 'demo-003', displayName: 'C. Clarke', bed: '3', scenario: 'stable.json' },
];
