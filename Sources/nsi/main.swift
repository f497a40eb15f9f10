import NSICLI

await NSICommand.main()
