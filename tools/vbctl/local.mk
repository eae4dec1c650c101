# vbctl: the command-line tool and shell
