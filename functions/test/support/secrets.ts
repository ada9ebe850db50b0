/** The CONTROL_SECRET every test gateway, control plane and emulator shares (tests set one, as the local stack does). */
export const TEST_CONTROL_SECRET = "test-control-secret-0123456789abcdef0123456789";
