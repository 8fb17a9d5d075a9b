// A free TCP port on the loopback interface, for servers the tests start
// (the harness's own, which its throwaway PostgreSQL uses).

export { freePort } from '../../harness/store/throwaway-postgres.ts';
