export * from './units.ts';
export * from './model.ts';
export * from './training.ts';
export * from './device.ts';
export * from './link.ts';
export * from './energy.ts';
