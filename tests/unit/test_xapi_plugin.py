#!/usr/bin/env python3
"""The XAPI plugin (host/xapi-plugin/xquiesce), loaded with a test double of
XAPI's XenAPIPlugin: the command line it gives xquiesce-host, the XAPI error
each exit status becomes, its refusals of bad arguments, and one run of the
real xquiesce-host where there is no xenstore. Prints TAP lines."""
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
top = os.path.dirname(os.path.dirname(here))
sys.path.insert(0, os.path.join(here, "xapi-double"))
import XenAPIPlugin  # noqa: E402  (the double)

VM = "3f1c2b9a-0d4e-4c8f-9a71-5b2e6d0c1a77"
failed = 0


def load_plugin():
    path = os.path.join(top, "host", "xapi-plugin", "xquiesce")
    loader = importlib.machinery.SourceFileLoader("xquiesce_plugin", path)
    spec = importlib.util.spec_from_loader("xquiesce_plugin", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def check(name, ok, detail=""):
    global failed
    if ok:
        print("ok - " + name)
    else:
        failed += 1
        print("not ok - " + name)
        for line in str(detail).splitlines():
            print("# " + line)


def call(plugin, args):
    """(returned text, None) or (None, the Failure raised)."""
    try:
        return plugin.snapshot(None, args), None
    except XenAPIPlugin.Failure as failure:
        return None, failure


def tool_double(workdir, status, out="", err=""):
    """A stand-in for xquiesce-host that records its arguments."""
    path = os.path.join(workdir, "xquiesce-host-double")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n"
                "printf '%%s\\n' \"$@\" >'%s/argv'\n"
                "printf '%%s' '%s'\nprintf '%%s' '%s' >&2\nexit %d\n"
                % (workdir, out, err, status))
    os.chmod(path, 0o755)
    return path


def argv(workdir):
    with open(os.path.join(workdir, "argv")) as f:
        return f.read().splitlines()


def main():
    plugin = load_plugin()
    with tempfile.TemporaryDirectory() as work:
        plugin.TOOL = tool_double(work, 0, out="snapshot-uuid: x\n")
        text, failure = call(plugin, {"vm": VM})
        check("plugin: success returns xquiesce-host's report",
              failure is None and text == "snapshot-uuid: x\n", failure)
        check("plugin: runs 'xquiesce-host snapshot VM'",
              argv(work) == ["snapshot", VM], argv(work))
        call(plugin, {"vm": VM, "timeout": "120", "command": "xe vm-snapshot uuid=$XQ_VM_UUID",
                      "command_timeout": "8"})
        want = ["snapshot", "--timeout", "120", "--command-timeout", "8",
                "--command", "xe vm-snapshot uuid=$XQ_VM_UUID", VM]
        check("plugin: passes timeout, command timeout and command through, the VM last",
              argv(work) == want, argv(work))

        expected = {3: "VM_SNAPSHOT_WITH_QUIESCE_NOT_SUPPORTED",
                    4: "VM_SNAPSHOT_WITH_QUIESCE_PLUGIN_DEOS_NOT_RESPOND",
                    5: "VM_SNAPSHOT_WITH_QUIESCE_TIMEOUT",
                    6: "VM_SNAPSHOT_WITH_QUIESCE_FAILED",
                    7: "OTHER_OPERATION_IN_PROGRESS",
                    1: "INTERNAL_ERROR", 2: "INTERNAL_ERROR"}
        for status, code in sorted(expected.items()):
            plugin.TOOL = tool_double(work, status, err="xquiesce-host: why\n")
            text, failure = call(plugin, {"vm": VM})
            check("plugin: exit status %d is %s with the VM and the message" % (status, code),
                  failure is not None and failure.code == code and
                  failure.params == [VM, "xquiesce-host: why"], failure and failure.args)

        plugin.TOOL = tool_double(work, 0)
        os.remove(os.path.join(work, "argv"))
        for args, code, name in (({}, "MISSING_ARGUMENT", "no vm"),
                                 ({"vm": VM, "timeout": "0"}, "INVALID_VALUE", "timeout 0"),
                                 ({"vm": VM, "timeout": "1m"}, "INVALID_VALUE", "timeout 1m"),
                                 ({"vm": VM, "timeout": "-5"}, "INVALID_VALUE", "timeout -5"),
                                 ({"vm": VM, "command_timeout": "0"}, "INVALID_VALUE",
                                  "command_timeout 0")):
            text, failure = call(plugin, args)
            check("plugin: %s is refused with %s, xquiesce-host not run" % (name, code),
                  failure is not None and failure.code == code and
                  not os.path.exists(os.path.join(work, "argv")), failure and failure.args)

    # The shell line picks the first python that can import XenAPIPlugin.
    plugin_path = os.path.join(top, "host", "xapi-plugin", "xquiesce")
    with tempfile.TemporaryDirectory() as bin_dir:
        def python(name, has_module):
            with open(os.path.join(bin_dir, name), "w") as f:
                f.write("#!/bin/sh\ncase \"$*\" in *'import XenAPIPlugin'*) exit %d ;; esac\n"
                        "echo %s \"$@\"\n" % (0 if has_module else 1, name))
            os.chmod(os.path.join(bin_dir, name), 0o755)
        env = dict(os.environ, PATH=bin_dir + ":/bin:/usr/bin")
        for have3, want in ((False, "python2"), (True, "python3")):
            python("python3", have3)
            python("python2", True)
            run = subprocess.run(["sh", plugin_path, "<xml/>"], env=env,
                                 stdout=subprocess.PIPE, universal_newlines=True)
            check("plugin: runs under %s when %s" % (want, "python3 has XenAPIPlugin" if have3
                                                      else "only python2 has it (XCP-ng 8.2)"),
                  run.stdout == "%s %s <xml/>\n" % (want, plugin_path), run.stdout)
        python("python3", False)
        python("python2", False)
        python("python", False)
        run = subprocess.run(["sh", plugin_path], env=env, stderr=subprocess.PIPE,
                             universal_newlines=True)
        check("plugin: no python with XenAPIPlugin: exit 1, saying so",
              run.returncode == 1 and "XenAPIPlugin" in run.stderr, run.stderr)

    # The real tool, where no xenstore answers.
    build = os.path.join(top, "build", "unit-host")
    subprocess.check_call(["make", "-s", "-C", os.path.join(top, "host"), "O=" + build],
                          stdout=subprocess.DEVNULL)
    plugin.TOOL = os.path.join(build, "xquiesce-host")
    os.environ["XENSTORED_PATH"] = "/nonexistent/xenstored-socket"
    text, failure = call(plugin, {"vm": VM, "command": "true"})
    check("plugin: the real xquiesce-host without xenstore gives INTERNAL_ERROR saying so",
          failure is not None and failure.code == "INTERNAL_ERROR" and
          "cannot connect to xenstore" in failure.params[1], failure and failure.args)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
