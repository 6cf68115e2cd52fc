// The layer rules of the design (docs/development.md, code map), as ESLint's no-restricted-imports: data
// flows one way, handlers → http → use cases → domain, with adapters at the edge.
// eslint.config.js applies them; test/static/layers.test.ts shows each one refusing
// a wrong import.
const aws = ['@aws-sdk/*', '@aws-lambda-powertools/*', '@middy/*', 'aws-lambda', '@smithy/*'];

export const layers = [
  {
    files: ['lib/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../*'], message: 'the domain imports nothing of ours outside lib/domain' },
            { group: aws, message: 'the domain knows no AWS, no HTTP' },
          ],
        },
      ],
    },
  },
  {
    // The import parsers, a folder of the domain: its own modules and the domain's, nothing else.
    files: ['lib/domain/imports/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../../*'], message: 'the domain imports nothing of ours outside lib/domain' },
            { group: aws, message: 'the domain knows no AWS, no HTTP' },
          ],
        },
      ],
    },
  },
  {
    files: ['lib/usecases/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../http/*', '../local/*'],
              message: 'use cases import no HTTP code: the edge parses input',
            },
            {
              group: aws,
              message: 'use cases reach AWS through ports (lib/store, lib/crypto), not SDK types',
            },
          ],
        },
      ],
    },
  },
  {
    files: [
      'lib/store/**/*.ts',
      'lib/crypto/**/*.ts',
      'lib/observability/**/*.ts',
      'lib/queue/**/*.ts',
      'lib/webhooks/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../usecases/*', '../http/*', '../local/*', '../deps.ts'],
              message: 'adapters import no use case, no HTTP code and no wiring',
            },
          ],
        },
      ],
    },
  },
  {
    // The typed client is for callers (the CLI, the console, panel backends): it
    // speaks HTTP only, and runs in a browser as well as in Node.js.
    files: ['client/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../*'], message: 'the client knows the service only through openapi.yaml' },
            { group: ['node:*'], message: 'the client runs in browsers too: no Node.js modules' },
          ],
        },
      ],
    },
  },
  {
    files: ['console/**/*.ts'],
    ignores: ['console/vite.config.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../lib/*', '../../lib/*', '../functions/*', '../../functions/*', 'node:*'],
              message: 'the console is a page: it reaches the service through client/, over HTTP',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../lib/*', '../../lib/*', '../functions/*', '../../functions/*'],
              message: 'the CLI is a caller: it reaches the service through client/, over HTTP',
            },
          ],
        },
      ],
    },
  },
];

// Keys of input (a request body, an export, a CSV file) are data: `'constructor' in {}`
// is true, so a check that reads the prototype chain lets a file's "__proto__" or
// "constructor" pass for something else. test/unit/untrustedKeys.test.ts shows it biting.
export const untrustedKeys = {
  files: [
    'lib/**/*.ts',
    'functions/**/*.ts',
    'client/**/*.ts',
    'cli/**/*.ts',
    'console/**/*.ts',
    'bin/**/*.js',
  ],
  rules: {
    'no-restricted-syntax': [
      'error',
      {
        selector: 'BinaryExpression[operator="in"]',
        message: 'the in operator reads the prototype chain: use Object.hasOwn (lib/domain/untrusted.ts)',
      },
    ],
  },
};
