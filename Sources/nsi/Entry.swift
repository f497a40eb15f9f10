import NSICLI

@main
struct Entry {
    static func main() async {
        await NSICommand.main()
    }
}
