// tests/load/load_test.js
// The load plan's k6 script (LOAD_TESTING_PLAN.md), same stages: 30 s ramp-up to 50 virtual
// users, 30 min at 50, 30 s ramp-down. k6 is not packaged in Debian, so nothing in this project
// depends on it (scripts/load-test uses Locust and wrk); where k6 is installed:
//   k6 run tests/load/load_test.js                                  # http://localhost:5000
//   k6 run -e BASE_URL=http://127.0.0.1:5000 tests/load/load_test.js
// The account is the load-test one created by `scenepacker seed --user testuser:password`.
// Start the server with SP_RATE_LIMIT_PER_MIN=0 (one token is shared by every virtual user)
// and SP_ACCESS_TTL above the run time (the token is fetched once, in setup()).
import http from 'k6/http';
import { check, sleep } from 'k6';

const BASE_URL = __ENV.BASE_URL || 'http://localhost:5000';

export const options = {
  stages: [
    { duration: '30s', target: 50 },  // Ramp-up
    { duration: '30m', target: 50 }, // Maintain
    { duration: '30s', target: 0 },  // Ramp-down
  ],
};

let token = '';

export function setup() {
  // Login
  const loginRes = http.post(`${BASE_URL}/api/auth/login`, JSON.stringify({
    username: 'testuser',
    password: 'password'
  }), {
    headers: { 'Content-Type': 'application/json' },
  });
  
  token = JSON.parse(loginRes.body).access_token;
  return { token };
}

export default function(data) {
  const headers = {
    'Authorization': `Bearer ${data.token}`,
    'Content-Type': 'application/json',
  };
  
  // Dashboard
  const dashboardRes = http.get(`${BASE_URL}/api/dashboard/stats`, { headers });
  check(dashboardRes, {
    'dashboard status 200': (r) => r.status === 200,
    'dashboard response time < 200ms': (r) => r.timings.duration < 200,
  });
  
  sleep(1);
  
  // List releases
  const releasesRes = http.get(`${BASE_URL}/api/releases`, { headers });
  check(releasesRes, {
    'releases status 200': (r) => r.status === 200,
    'releases response time < 200ms': (r) => r.timings.duration < 200,
  });
  
  sleep(1);
}
