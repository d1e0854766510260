"""Test double of XAPI's XenAPIPlugin module: XAPI does not run here.

Only what host/xapi-plugin/xquiesce uses: Failure(code, params), which XAPI
turns into the error the caller of host-call-plugin sees, and dispatch().
"""


class Failure(Exception):
    def __init__(self, code, params):
        Exception.__init__(self, code, params)
        self.code = code
        self.params = params


def dispatch(functions):
    raise RuntimeError("the test calls the plugin's functions directly")
