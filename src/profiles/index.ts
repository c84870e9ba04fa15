export * from "./components.ts";
export * from "./switches.ts";
export * from "./presets.ts";
export * from "./profile.ts";
