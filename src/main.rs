//! The `cacher` executable: parse argv, set the verbosity, run the command, print an error as
//! one `cacher: ` line on stderr, and exit with the code SPEC §3 gives (0, 1, 2 or 3, nothing
//! else).

use cacher::{cli, commands, config::Env, output, semaphore};

fn main() {
    let mut argv = std::env::args_os();
    let argv0 = argv.next().unwrap_or_default();
    // Installed as `cache`, cacher speaks Semaphore's cache CLI (src/semaphore.rs).
    if semaphore::wanted(&argv0) {
        cacher::interrupt::install();
        std::process::exit(semaphore::main(argv.collect(), Env::from_process()));
    }
    let code = match cli::parse(argv) {
        Err(e) => {
            output::error(&e.0);
            2
        }
        Ok((globals, cmd)) => {
            output::set_level(if globals.quiet {
                output::Level::Quiet
            } else if globals.verbose {
                output::Level::Verbose
            } else {
                output::Level::Normal
            });
            cacher::interrupt::install();
            match commands::run(globals, cmd, Env::from_process()) {
                Ok(code) => code,
                // `cacher list | head`: a closed stdout is the reader's choice, not an error.
                Err(e) if e.is_broken_pipe() => 0,
                Err(e) => {
                    output::error(&e.to_string());
                    e.exit_code()
                }
            }
        }
    };
    std::process::exit(code);
}
