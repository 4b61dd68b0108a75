/**
 * Import rules of migrate-bot, checked by `npm test` (dependency-cruiser). The folders are the
 * architecture: main → surfaces → adapters → domain → shared (config is read by main, surfaces
 * and adapters). See docs/architecture.md.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle (type-only imports included) ties modules that should be layered.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'The domain knows no adapter, surface, composition root or configuration loader.',
      from: { path: '^src/domain/' },
      to: { path: '^src/(adapters|surfaces|main)/' },
    },
    {
      name: 'domain-no-io-libraries',
      severity: 'error',
      comment: 'No Slack, BullMQ, pg, AWS or metrics library inside the domain: it speaks through its ports.',
      from: { path: '^src/domain/' },
      to: { path: 'node_modules/(@slack|bullmq|ioredis|pg|@aws-sdk|prom-client|knex|drizzle-orm|node-pg-migrate)/' },
    },
    {
      name: 'adapters-below-surfaces',
      severity: 'error',
      comment: 'Adapters implement ports; the surfaces that use them sit above.',
      from: { path: '^src/adapters/' },
      to: { path: '^src/(surfaces|main)/' },
    },
    {
      name: 'nothing-imports-main',
      severity: 'error',
      comment: 'The composition root is the top: nothing imports it.',
      from: { path: '^src/', pathNot: '^src/main/' },
      to: { path: '^src/main/' },
    },
    {
      name: 'shared-is-the-floor',
      severity: 'error',
      from: { path: '^src/shared/' },
      to: { path: '^src/(domain|adapters|surfaces|main|config)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
