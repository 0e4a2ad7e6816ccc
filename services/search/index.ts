// The AutoGAN method's application services: the steps of Algorithm 1 as plain functions over
// artifact references (initialise, train the shared GAN, train the controller, grow, reset,
// derive). Each loads what it needs from the artifact store, works, checkpoints every N steps
// through `hooks` (so a retried attempt resumes from hooks.resumeFrom), and returns small JSON.
// Temporal knows nothing of them; activities/ adapts them.
export * from './context';
export * from './controller-training';
export * from './derive';
export * from './grow';
export * from './init';
export * from './reset';
export * from './scoring';
export * from './shared-training';
