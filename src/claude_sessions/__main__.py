from claude_sessions.cli import main

main()
